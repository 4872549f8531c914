namespace Mekong.Policy;

/// <summary>Start <paramref name="Job"/> now on these nodes.</summary>
/// <param name="Borrowing">True when the job runs on lent capacity beyond its accounts' guarantees and may be preempted to reclaim it.</param>
public sealed record JobStart(JobId Job, IReadOnlyList<NodeAllocation> Allocations, string GpuType, bool Borrowing);
