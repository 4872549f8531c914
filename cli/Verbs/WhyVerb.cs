using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong why JOB</c>: why a job is pending, the numbers behind it, and when it may start.</summary>
internal static class WhyVerb
{
    public static Command Create(VerbHost host)
    {
        var id = new Argument<string>("job") { Description = "job id (j-000123)" };
        var json = VerbHost.JsonOption();
        var verb = new Command("why", "say why a job is pending and when it is estimated to start");
        verb.Arguments.Add(id);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var response = await connection.Jobs.ExplainJobAsync(new ExplainJobRequest { Id = context.Get(id) }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response);
            else Write(context.Output, response, context.Now);
            return ExitCodes.Success;
        });
        return verb;
    }

    public static void Write(TextWriter output, ExplainJobResponse response, DateTimeOffset now)
    {
        var state = EnumWords.Of(response.State);
        if (response.Explanation is not { } explanation)
        {
            output.Write(response.State is JobState.Pending or JobState.Held
                ? $"{response.Id} is {state}; the scheduler has not explained it yet\n"
                : $"{response.Id} is {state}, not pending\n");
            return;
        }

        output.Write($"{response.Id} is {state}: {JobText.Reason(explanation)}\n");
        var numbers = JobText.Numbers(explanation, now).ToList();
        var width = numbers.Max(n => n.Name.Length) + 2;
        foreach (var (name, value) in numbers)
        {
            output.Write("  " + (name + ":").PadRight(width) + value + "\n");
        }
    }
}
