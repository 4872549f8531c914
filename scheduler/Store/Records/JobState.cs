namespace Mekong.Store;

/// <summary>A job's state as the store records it (DESIGN.md "Job"). <see cref="Preempted"/> is a pending
/// job that was stopped by preemption: it is requeued with its original submit time.</summary>
public enum JobState
{
    Pending = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
    Cancelled = 4,
    TimedOut = 5,
    Preempted = 6,
    Held = 7,
}

/// <summary>The states' stored names and the transitions the store accepts.</summary>
public static class JobStates
{
    public static string ToText(this JobState state) => state switch
    {
        JobState.Pending => "pending",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        JobState.TimedOut => "timed-out",
        JobState.Preempted => "preempted",
        JobState.Held => "held",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown job state"),
    };

    public static JobState Parse(string text) => text switch
    {
        "pending" => JobState.Pending,
        "running" => JobState.Running,
        "succeeded" => JobState.Succeeded,
        "failed" => JobState.Failed,
        "cancelled" => JobState.Cancelled,
        "timed-out" => JobState.TimedOut,
        "preempted" => JobState.Preempted,
        "held" => JobState.Held,
        _ => throw new StoreException($"unknown job state '{text}' in the store"),
    };

    /// <summary>Whether the job is still in the scheduler's hands (rebuilt into the core on restart).</summary>
    public static bool IsLive(this JobState state) => state is JobState.Pending or JobState.Held or JobState.Preempted or JobState.Running;

    /// <summary>Whether the job waits for resources (pending, held, or requeued after preemption).</summary>
    public static bool IsWaiting(this JobState state) => state is JobState.Pending or JobState.Held or JobState.Preempted;

    /// <summary>The states a job may enter <paramref name="to"/> from. Terminal states are left never.</summary>
    public static IReadOnlyList<JobState> AllowedFrom(JobState to) => to switch
    {
        JobState.Running => [JobState.Pending, JobState.Preempted],
        JobState.Succeeded or JobState.Failed or JobState.TimedOut or JobState.Preempted => [JobState.Running],
        JobState.Cancelled => [JobState.Pending, JobState.Held, JobState.Preempted, JobState.Running],
        JobState.Held => [JobState.Pending, JobState.Preempted],
        JobState.Pending => [JobState.Held],
        _ => [],
    };
}
