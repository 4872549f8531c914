namespace Mekong.Policy;

/// <summary>What one scheduling decision says: starts, preemptions, reservations. The core has already
/// assumed the starts (their GPUs are taken) and marked the victims as terminating; the host enacts them.</summary>
public sealed record SchedulingPlan(
    DateTimeOffset Time,
    IReadOnlyList<JobStart> Starts,
    IReadOnlyList<JobPreemption> Preemptions,
    IReadOnlyList<Reservation> Reservations,
    PassStatistics Statistics)
{
    public bool IsEmpty => Starts.Count == 0 && Preemptions.Count == 0;
}

/// <summary>How much work a decision did (for metrics and benchmarks).</summary>
/// <param name="Full">True for a full pass (every pending job explained), false for an incremental decision.</param>
/// <param name="JobsVisited">Pending jobs looked at one by one.</param>
/// <param name="ProjectsSkipped">Project sweeps a decision passed over whole, each proven unable to start, preempt or reserve anything.</param>
public sealed record PassStatistics(bool Full, int PendingJobs, int JobsVisited, int ProjectsSkipped, int PlacementAttempts);
