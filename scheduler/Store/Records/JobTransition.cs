using Mekong.Policy;

namespace Mekong.Store;

/// <summary>A change of a job's state, recorded in <c>jobs</c>, appended to <c>job_events</c>, and, where a
/// run starts or stops, to <c>usage_records</c>. Build with the factory methods.</summary>
public sealed record JobTransition(JobId Job, JobState To, DateTimeOffset At)
{
    public string? Reason { get; init; }

    public int? ExitCode { get; init; }

    /// <summary>For <see cref="JobState.Running"/>: one allocation per node of the job.</summary>
    public IReadOnlyList<NodeAllocation> Allocations { get; init; } = [];

    public string? GpuType { get; init; }

    public bool Borrowing { get; init; }

    /// <summary>For <see cref="JobState.Cancelled"/>: the user who cancelled it; null when the scheduler did.</summary>
    public string? CancelledBy { get; init; }

    public static JobTransition Started(JobId job, DateTimeOffset at, IReadOnlyList<NodeAllocation> allocations, string gpuType, bool borrowing) =>
        new(job, JobState.Running, at) { Allocations = allocations, GpuType = gpuType, Borrowing = borrowing };

    public static JobTransition Ended(JobId job, JobState outcome, DateTimeOffset at, int? exitCode = null, string? reason = null) =>
        outcome is JobState.Succeeded or JobState.Failed or JobState.TimedOut or JobState.Cancelled
            ? new(job, outcome, at) { ExitCode = exitCode, Reason = reason }
            : throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "a job ends succeeded, failed, timed-out or cancelled");

    /// <summary>A user's cancellation; <paramref name="reason"/> is the note kept for people.</summary>
    public static JobTransition Cancelled(JobId job, DateTimeOffset at, string by, string? reason = null) =>
        new(job, JobState.Cancelled, at) { CancelledBy = by, Reason = reason };

    public static JobTransition Preempted(JobId job, DateTimeOffset at, string? reason = null) => new(job, JobState.Preempted, at) { Reason = reason };

    public static JobTransition Held(JobId job, DateTimeOffset at, string? reason = null) => new(job, JobState.Held, at) { Reason = reason };

    public static JobTransition Released(JobId job, DateTimeOffset at) => new(job, JobState.Pending, at);

    internal void Validate()
    {
        if (Job.Value <= 0) throw new StoreException($"job id {Job} is not a store-assigned id");
        if (To == JobState.Running)
        {
            if (Allocations.Count == 0) throw new StoreException($"job {Job}: a start needs its allocations");
            if (string.IsNullOrWhiteSpace(GpuType)) throw new StoreException($"job {Job}: a start needs its GPU type");
            foreach (var a in Allocations)
                if (string.IsNullOrWhiteSpace(a.Node) || a.GpuMask == 0) throw new StoreException($"job {Job}: an allocation needs a node and at least one GPU");
        }
        if (JobStates.AllowedFrom(To).Count == 0) throw new StoreException($"job {Job}: no transition leads to {To.ToText()}");
        if (CancelledBy is not null && (To != JobState.Cancelled || string.IsNullOrWhiteSpace(CancelledBy) || CancelledBy.Length > 256))
            throw new StoreException($"job {Job}: a canceller is a user name (1..256 characters), given only with a cancellation");
    }
}
