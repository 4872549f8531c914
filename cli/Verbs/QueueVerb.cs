using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong queue</c>: lists jobs, newest first, with each pending job's reason and estimated start.
/// Without <c>--state</c> or <c>--all</c> only unfinished jobs are listed (pending, held, preempted,
/// running). Pages through ListJobs until <c>--limit</c> jobs or the last page.
/// </summary>
internal static class QueueVerb
{
    /// <summary>Page size asked of the server. Not its cap of 1000: the server answers page_size 1000 with
    /// UNKNOWN (it asks its store for 1001 rows to see whether there is a next page, past the store's limit).</summary>
    private const uint PageSize = 500;

    private static readonly JobState[] Unfinished = [JobState.Pending, JobState.Held, JobState.Preempted, JobState.Running];

    public static Command Create(VerbHost host)
    {
        var project = new Option<string?>("--project") { Description = "only this project (a prefix such as uni-a includes its sub-projects)", HelpName = "PATH" };
        var states = VerbOptions.Words<JobState>("--state", "only jobs in these states");
        var user = new Option<string?>("--user") { Description = "only jobs of this user", HelpName = "USER" };
        var all = new Option<bool>("--all") { Description = "include finished jobs (succeeded, failed, cancelled, timed-out)" };
        var limit = new Option<int>("--limit") { Description = "most jobs to list", DefaultValueFactory = _ => 1000, HelpName = "N" };
        limit.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--limit must be at least 1"); });
        var json = VerbHost.JsonOption();

        var verb = new Command("queue", "list jobs with their state, reason and estimated start");
        foreach (var o in new Option[] { project, states, user, all, limit, json }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var request = new ListJobsRequest { Project = context.Get(project) ?? "", User = context.Get(user) ?? "" };
            var wanted = context.Get(states) ?? [];
            request.States.AddRange(wanted.Length > 0 ? wanted : context.Get(all) ? [] : Unfinished);
            var max = context.Get(limit);
            var connection = context.Connect();
            var jobs = new List<Job>();
            var truncated = false;
            while (true)
            {
                request.PageSize = (uint)Math.Min(PageSize, max - jobs.Count);
                var page = await connection.Jobs.ListJobsAsync(request, connection.Unary()).ConfigureAwait(false);
                jobs.AddRange(page.Jobs.Take(max - jobs.Count));
                if (page.NextPageToken.Length == 0) break;
                if (jobs.Count >= max)
                {
                    truncated = true;
                    break;
                }

                request.PageToken = page.NextPageToken;
            }

            if (context.Get(json))
            {
                ProtoJson.WriteArray(context.Output, jobs);
            }
            else
            {
                var table = new Table("ID", "PROJECT", "USER", "NAME", "STATE", "GPUS", "REASON", "START");
                var now = context.Now;
                foreach (var job in jobs)
                {
                    table.Add(job.Id, job.Spec?.Project, job.User, job.Spec?.Name, EnumWords.Of(job.State), JobText.Shape(job.Spec),
                        job.Explanation?.ReasonCode is { Length: > 0 } code ? code : job.Explanation is { } e ? EnumWords.Of(e.Reason) : "",
                        JobText.StartColumn(job, now));
                }

                if (jobs.Count == 0) await context.Output.WriteLineAsync("no jobs").ConfigureAwait(false);
                else table.Write(context.Output);
            }

            if (truncated) await context.Error.WriteLineAsync($"mekong: listed the newest {max} jobs; there are more (--limit N)").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }
}
