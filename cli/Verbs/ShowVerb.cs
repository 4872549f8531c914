using System.CommandLine;
using System.Globalization;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong show JOB</c>: one job in full.</summary>
internal static class ShowVerb
{
    public static Command Create(VerbHost host)
    {
        var id = new Argument<string>("job") { Description = "job id (j-000123)" };
        var json = VerbHost.JsonOption();
        var verb = new Command("show", "show one job in full");
        verb.Arguments.Add(id);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var response = await connection.Jobs.GetJobAsync(new GetJobRequest { Id = context.Get(id) }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Job);
            else Write(context.Output, response.Job, context.Now);
            return ExitCodes.Success;
        });
        return verb;
    }

    public static void Write(TextWriter output, Job job, DateTimeOffset now)
    {
        var spec = job.Spec ?? new JobSpec();
        var lines = new List<(string, string)>
        {
            ("id", job.Id),
            ("name", spec.Name),
            ("project", spec.Project),
            ("user", job.User),
            ("state", EnumWords.Of(job.State) + (job.StateMessage.Length > 0 ? $" ({job.StateMessage})" : "")),
            ("gpus", JobText.Shape(spec)),
            ("walltime", JobText.Duration(spec.Walltime)),
            ("priority", EnumWords.Of(spec.Priority)),
            ("preemptible", spec.Preemptible ? "yes" : "no"),
            ("grace", JobText.Duration(spec.GracePeriod)),
            ("command", JobText.Command(spec.Command)),
            ("image", spec.ContainerImage),
            ("workdir", spec.WorkingDir),
            ("env", string.Join(' ', spec.Env.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))),
            ("submitted", JobText.TimeAndRelative(job.SubmitTime, now)),
            ("started", JobText.TimeAndRelative(job.StartTime, now)),
            ("ended", JobText.TimeAndRelative(job.EndTime, now)),
            ("exit code", job.EndTime is not null ? job.ExitCode.ToString(CultureInfo.InvariantCulture) : ""),
            ("cancelled by", job.CancelledBy),
            ("borrowing", job.State == JobState.Running ? (job.Borrowing ? "yes (preemptible)" : "no") : ""),
            ("preemptions", job.PreemptionCount > 0 ? job.PreemptionCount.ToString(CultureInfo.InvariantCulture) : ""),
        };
        foreach (var allocation in job.Allocations)
        {
            lines.Add(("node", $"{allocation.Node} rank {allocation.Rank} gpus {string.Join(',', allocation.GpuIndices)}"));
        }

        if (job.Explanation is { } explanation)
        {
            lines.Add(("reason", JobText.Reason(explanation)));
            lines.Add(("estimated start", explanation.EstimatedStart is { } est ? JobText.TimeAndRelative(est, now) : "unknown"));
        }

        var width = lines.Max(l => l.Item1.Length) + 2;
        foreach (var (key, value) in lines.Where(l => l.Item2.Length > 0))
        {
            output.Write((key + ":").PadRight(width));
            output.Write(value.ReplaceLineEndings(" "));
            output.Write('\n');
        }
    }
}
