namespace Mekong.Integration.Tests.Harness;

/// <summary>Waiting on a loaded machine: poll with generous deadlines, never a fixed sleep as an assertion.</summary>
internal static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var value = await read();
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no {what} within {timeoutSeconds} s; last: {value}");
            await Task.Delay(50);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what, int timeoutSeconds = 30) =>
        UntilAsync(() => Task.FromResult(condition()), ok => ok, what, timeoutSeconds);

    /// <summary>Whether a process exists and is not a zombie.</summary>
    public static bool ProcessAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
