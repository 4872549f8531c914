namespace Mekong.Simulation.Metrics;

/// <summary>One job's outcome: its final run (a preempted job's earlier runs are lost work).</summary>
public sealed record JobOutcome(string JobId, string Tenant, long SubmitS, long StartS, long EndS, int Gpus, int Preemptions, bool GuaranteedAtSubmit)
{
    public long WaitS => StartS - SubmitS;
    public long JctS => EndS - SubmitS;
}

/// <summary>Per-tenant figures.</summary>
/// <param name="ShareReceived">The tenant's GPU-seconds held over the cluster's GPU-seconds (GPUs × makespan).</param>
/// <param name="ShareEntitled">The tenant's entitled GPU-seconds (max-min fair allocation) over the same.</param>
public sealed record TenantResult(string Tenant, int Jobs, double GpuHours, double WaitMeanS, double WaitP99S, double ShareReceived, double ShareEntitled)
{
    /// <summary>Diagnostic: received/entitled averaged over the contended intervals where the tenant had demand,
    /// weighted like Jain's index — which tenants pull the index down, and in which direction.</summary>
    public double RatioUnderContention { get; init; } = double.NaN;
}

/// <summary>What one replay measured. Definitions: see docs/policy-quality.md.</summary>
public sealed record SimulationResult(
    string Name,
    int Jobs,
    int Unsatisfiable,
    int Unfinished,
    double WallS,
    long MakespanS,
    double Utilization,
    double WaitMeanS,
    double WaitP50S,
    double WaitP99S,
    double JctMeanS,
    int Preemptions,
    double JainFairness,
    double ReclaimP99S,
    int ReclaimJobs,
    IReadOnlyList<TenantResult> PerTenant,
    IReadOnlyList<JobOutcome> Outcomes)
{
    /// <summary>Diagnostic: wall seconds spent inside the scheduler (submit, finish, decide), the rest is the replay itself.</summary>
    public double SchedulerS { get; init; }

    /// <summary>Diagnostic: scheduling decisions made (one per distinct event time).</summary>
    public int Decisions { get; init; }

    /// <summary>GPU-hours of work thrown away by preemptions (run time since the last checkpoint).</summary>
    public double PreemptedGpuHours { get; init; }
}

internal static class Stats
{
    /// <summary>Nearest-rank percentile of sorted values; 0 when empty.</summary>
    public static double Percentile(IReadOnlyList<long> sorted, double p)
    {
        if (sorted.Count == 0) return 0;
        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static double Mean(IReadOnlyCollection<long> values) => values.Count == 0 ? 0 : values.Average(v => (double)v);
}
