namespace Mekong.Agent.Execution;

/// <summary>
/// Where a job's files live in the state directory:
/// <code>
/// STATE/jobs/JOB/work                  default working directory (kept across attempts: checkpoints survive a preemption)
/// STATE/jobs/JOB/attempt-N/stdout.log  output of attempt N
/// STATE/jobs/JOB/attempt-N/stderr.log
/// STATE/jobs/JOB/attempt-N/job.json    state file while running and until its end was reported
/// </code>
/// </summary>
public sealed class JobLayout
{
    public JobLayout(string stateDirectory) => Root = Path.Combine(Path.GetFullPath(stateDirectory), "jobs");

    public string Root { get; }

    public string JobDirectory(string jobId) => Path.Combine(Root, ControlGroups.CgroupDriver.Sanitise(jobId));

    public string WorkDirectory(string jobId) => Path.Combine(JobDirectory(jobId), "work");

    public string AttemptDirectory(string jobId, uint attempt) => Path.Combine(JobDirectory(jobId), $"attempt-{attempt}");

    public string StdoutPath(string jobId, uint attempt) => Path.Combine(AttemptDirectory(jobId, attempt), "stdout.log");

    public string StderrPath(string jobId, uint attempt) => Path.Combine(AttemptDirectory(jobId, attempt), "stderr.log");

    public string RecordPath(string jobId, uint attempt) => Path.Combine(AttemptDirectory(jobId, attempt), "job.json");

    /// <summary>Every state file present (for adoption after a restart).</summary>
    public IEnumerable<string> RecordPaths() =>
        Directory.Exists(Root) ? Directory.EnumerateFiles(Root, "job.json", SearchOption.AllDirectories) : [];
}
