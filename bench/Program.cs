using Mekong.Bench;

// Dispatch only: each benchmark lives in its own class.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: Mekong.Bench pass [--nodes N] [--gpus-per-node N] [--projects N] [--pending N] [--running N]");
    Console.WriteLine("                         [--repeat N] [--events N] [--event-warmup N] [--churn N] [--seed N] [--event-budget-s N] [--priority-preemption-pct N] [--json] [--profile]");
    Console.WriteLine("       Mekong.Bench store-load [--jobs N] [--concurrency N] [--store S] [--json]");
    Console.WriteLine("       Mekong.Bench submit-load [--jobs N] [--concurrency N] [--connections N] [--store S] [--json]");
    Console.WriteLine("       Mekong.Bench lifecycle [--agents N] [--jobs N] [--concurrency N] [--connections N] [--agent-channels N] [--gpus-per-node N]");
    Console.WriteLine("                              [--duration-s S] [--start-samples N] [--real] [--store S] [--json]");
    return args.Length == 0 ? 2 : 0;
}

switch (args[0])
{
    case "pass":
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args[1..]);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
        return new PassBenchmark(options).Run();
    case "store-load":
        try
        {
            return await StoreLoadVerb.RunAsync(args[1..]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
    case "submit-load":
        try
        {
            return await SubmitLoadVerb.RunAsync(args[1..]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
    case "lifecycle" when OperatingSystem.IsLinux():
        try
        {
            return await LifecycleVerb.RunAsync(args[1..]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
    default:
        await Console.Error.WriteLineAsync($"unknown benchmark '{args[0]}' (known: pass, store-load, submit-load, lifecycle)").ConfigureAwait(false);
        return 2;
}
