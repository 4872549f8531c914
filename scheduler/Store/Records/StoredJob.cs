using Mekong.Policy;

namespace Mekong.Store;

/// <summary>A job as the store holds it: the policy's spec (with its preemption count) plus what runs,
/// where it runs and how it ended.</summary>
public sealed record StoredJob(JobSpec Spec, JobCommand Command, JobState State)
{
    /// <summary>Start of the current (running) or last run.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>End of the last run, or when it was cancelled.</summary>
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>GPUs held while running (or by the last run).</summary>
    public IReadOnlyList<NodeAllocation> Allocations { get; init; } = [];

    public string? AllocatedType { get; init; }

    public bool Borrowing { get; init; }

    public int? ExitCode { get; init; }

    public string? Reason { get; init; }

    /// <summary>For a cancelled job: the user who cancelled it; null when the scheduler did.</summary>
    public string? CancelledBy { get; init; }

    public JobId Id => Spec.Id;
}
