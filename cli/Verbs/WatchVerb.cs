using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong watch JOB</c> / <c>mekong watch --project P</c>: one line per event until the job ends (the
/// server closes the stream) or Ctrl-C. With <c>--json</c>, one JobEvent object per line (NDJSON, as the
/// JSON API streams).
/// </summary>
internal static class WatchVerb
{
    public static Command Create(VerbHost host)
    {
        var id = new Argument<string?>("job") { Description = "job id (j-000123)", Arity = ArgumentArity.ZeroOrOne };
        var project = new Option<string?>("--project") { Description = "watch every job of a project (and its sub-projects) instead", HelpName = "PATH" };
        var states = VerbOptions.Words<JobState>("--state", "with --project: only events leaving jobs in these states");
        var json = VerbHost.JsonOption();
        var verb = new Command("watch", "follow a job (until it ends) or a project (until Ctrl-C), one line per event");
        verb.Arguments.Add(id);
        foreach (var o in new Option[] { project, states, json }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var jobId = context.Get(id);
            var projectPath = context.Get(project);
            if (jobId is null == projectPath is null) throw new UsageException("give a job id or --project, not both");
            var connection = context.Connect();
            using var call = jobId is not null
                ? connection.Jobs.WatchJob(new WatchJobRequest { Id = jobId }, connection.Stream())
                : connection.Jobs.WatchProject(Project(projectPath!, context.Get(states) ?? []), connection.Stream());
            var asJson = context.Get(json);
            try
            {
                while (await call.ResponseStream.MoveNext(context.Cancellation).ConfigureAwait(false))
                {
                    var e = call.ResponseStream.Current;
                    await context.Output.WriteAsync(asJson ? ProtoJson.Format(e) + "\n" : Line(e)).ConfigureAwait(false);
                    await context.Output.FlushAsync(context.Cancellation).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (context.Cancellation.IsCancellationRequested && e is OperationCanceledException or Transport.RpcException)
            {
                // Ctrl-C is how a watch ends: not an error.
            }

            return ExitCodes.Success;
        });
        return verb;
    }

    private static WatchProjectRequest Project(string path, JobState[] states)
    {
        var request = new WatchProjectRequest { Project = path };
        request.States.AddRange(states);
        return request;
    }

    /// <summary>
    /// <c>14:02:11Z j-000042 running (was pending) on gpu-01</c>, <c>… j-000042 pending: resources: …</c>.
    /// </summary>
    public static string Line(JobEvent e)
    {
        var job = e.Job ?? new Job();
        var time = e.Time is { } t ? t.ToDateTimeOffset().ToString("HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) : "--:--:--";
        var what = EnumWords.Of(job.State);
        var detail = e.Type switch
        {
            JobEventType.StateChanged when e.PreviousState != JobState.Unspecified => $" (was {EnumWords.Of(e.PreviousState)})",
            JobEventType.Submitted => " (submitted)",
            _ => "",
        };
        var extra = job.State switch
        {
            JobState.Running when job.Allocations.Count > 0 => " on " + string.Join(',', job.Allocations.Select(a => a.Node)),
            JobState.Pending or JobState.Held or JobState.Preempted when job.Explanation is { } x => ": " + JobText.Reason(x),
            JobState.Succeeded or JobState.Failed or JobState.TimedOut => $", exit code {job.ExitCode}",
            _ => "",
        };
        var message = job.StateMessage.Length > 0 && job.State is not (JobState.Pending or JobState.Running) ? $" — {job.StateMessage}" : "";
        return $"{time} {job.Id} {what}{detail}{extra}{message}\n";
    }
}
