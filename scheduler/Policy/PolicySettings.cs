namespace Mekong.Policy;

/// <summary>The centre's policy knobs. Defaults follow DESIGN.md.</summary>
public sealed record PolicySettings
{
    /// <summary>Half-life of the exponential decay applied to past usage.</summary>
    public TimeSpan UsageHalfLife { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Weight of one GPU-second per type in fair-share usage (an H100-hour counts more than a T4-hour). Absent: 1.</summary>
    public IReadOnlyDictionary<string, double> GpuTypeWeights { get; init; } = new Dictionary<string, double>();

    /// <summary>How many of the highest-ranked blocked jobs get a backfill reservation.</summary>
    public int Reservations { get; init; } = 16;

    /// <summary>A job preempted this many times no longer borrows: it waits for guaranteed capacity.</summary>
    public int MaxPreemptions { get; init; } = 3;

    /// <summary>Fair-share-aware borrowing: a project (or an organisation above it) holding at least this many
    /// times its entitled share of the cluster — the weighted max-min fair division of the up GPUs among the
    /// accounts with demand — starts no further borrowing job while a project outside it with queued jobs holds
    /// less than its own entitled share. Jobs inside their guarantee are not affected, and an uncontended cluster
    /// entitles every account to all it asks, so the rule only bites under contention. 0 turns it off.</summary>
    public double BorrowBeyondFairShare { get; init; } = 1.5;

    /// <summary>How far below <see cref="BorrowBeyondFairShare"/> a borrowing job's size starts to count: an account
    /// holding less than this many times its entitled share may start a borrowing job of any size, while one holding
    /// more (and less than <see cref="BorrowBeyondFairShare"/> times) may start only a borrowing job that keeps it
    /// within <see cref="BorrowBeyondFairShare"/> × its share — so a project already at its share cannot jump far past
    /// it with one large job, as 4-GPU jobs of a project entitled to 4 GPUs did (docs/policy-quality.md). Positive:
    /// a project holding nothing may always start one job, whatever its size, so one whose jobs are larger than its
    /// share is not shut out. A value at or above <see cref="BorrowBeyondFairShare"/> gives the rule without sizes
    /// (any job while below that factor). Applies only while <see cref="BorrowBeyondFairShare"/> is on.</summary>
    public double BorrowAnySizeBelowShare { get; init; } = 0.5;

    /// <summary>Which borrowers a guarantee reclaim stops. The default stops those that lose the least work (DESIGN.md's
    /// stated aim); <see cref="ReclaimVictimOrder.FairShare"/> is DESIGN.md's literal order (fewest victims, from the
    /// accounts furthest over their fair share, then the most recently started). On the ITP trace at 1,280 GPUs the
    /// literal order throws away far more work — a gang that has run for a day loses to a fair-share fraction — and
    /// misses the utilisation and wait targets (docs/policy-quality.md).</summary>
    public ReclaimVictimOrder ReclaimVictimOrder { get; init; } = ReclaimVictimOrder.LeastWorkLost;

    public double WeightOf(string gpuType) => GpuTypeWeights.TryGetValue(gpuType, out var w) ? w : 1.0;

    internal void Validate()
    {
        if (UsageHalfLife <= TimeSpan.Zero) throw new PolicyException("usage half-life must be positive");
        if (Reservations < 0) throw new PolicyException("reservations must not be negative");
        if (!(BorrowBeyondFairShare >= 0) || double.IsInfinity(BorrowBeyondFairShare)) throw new PolicyException("borrowBeyondFairShare must be a non-negative number (0: off)");
        if (!(BorrowAnySizeBelowShare > 0) || double.IsInfinity(BorrowAnySizeBelowShare)) throw new PolicyException("borrowAnySizeBelowShare must be a positive number");
        if (MaxPreemptions < 0) throw new PolicyException("maxPreemptions must not be negative");
        foreach (var (type, w) in GpuTypeWeights)
            if (!(w > 0) || double.IsInfinity(w)) throw new PolicyException($"GPU type weight for {type} must be a positive number");
    }
}

/// <summary>How a guarantee reclaim chooses its victims among borrowers.</summary>
public enum ReclaimVictimOrder
{
    /// <summary>Fewest victims, from the accounts furthest over their fair share, then the most recently started.</summary>
    FairShare = 0,

    /// <summary>Least GPU-seconds of work thrown away (a gang counts all its GPUs), then fewest victims, then fair share.</summary>
    LeastWorkLost = 1,
}
