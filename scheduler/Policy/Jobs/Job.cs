namespace Mekong.Policy.Jobs;

/// <summary>The core's live record of a job: its spec, where it runs, and why it waits.</summary>
internal sealed class Job
{
    public Job(JobSpec spec, int project, int type)
    {
        Spec = spec;
        Project = project;
        Type = type;
        PreemptionCount = spec.PreemptionCount;
        Shape = new ShapeKey(type, spec.GpusPerNode, spec.Nodes, spec.CpuPerNode, spec.MemoryMbPerNode);
        WalltimeTicks = spec.Walltime.Ticks;
    }

    public JobSpec Spec { get; }
    public JobId Id => Spec.Id;
    /// <summary>Account index of the job's project.</summary>
    public int Project { get; }
    /// <summary>Requested GPU type index, or -1 for any.</summary>
    public int Type { get; }
    public ShapeKey Shape { get; }
    public long WalltimeTicks { get; }
    public int TotalGpus => Spec.TotalGpus;

    public JobStatus Status { get; set; }
    public bool Held { get; set; }
    public int PreemptionCount { get; set; }

    /// <summary>Set when queued: not preemptible, or preempted <c>maxPreemptions</c> times — a job that may be refused
    /// borrowing (see <see cref="ProjectQueue.MayNotBorrow"/>).</summary>
    public bool MayNotBorrow { get; set; }

    /// <summary>Jobs that preempted this one: it may never take capacity back from them (no loops).</summary>
    public List<JobId>? DisplacedBy { get; set; }

    // While running:
    public int AllocatedType { get; set; } = -1;
    public int[] Nodes { get; set; } = [];
    public ulong[] Masks { get; set; } = [];
    public long StartTicks { get; set; }
    public bool Borrowing { get; set; }
    /// <summary>Set when told to stop; the job frees its GPUs by this time at the latest (SIGKILL).</summary>
    public long KillTicks { get; set; } = long.MaxValue;
    /// <summary>True when the stop is a preemption: the job goes back to pending when it ends.</summary>
    public bool Requeue { get; set; }

    /// <summary>The explanation written by the last full pass.</summary>
    public PendingReason Reason { get; set; }

    /// <summary>Nodes whose victims are stopping for this pending job (from the decision that preempted
    /// them), so later decisions re-claim them instead of searching again; null when none.</summary>
    public int[]? ReclaimNodes { get; set; }

    public int ReclaimType { get; set; } = -1;

    /// <summary>The reservation last made on <see cref="ReclaimNodes"/> (for the nodes it was made on): each
    /// decision re-claims them, and reuses it — or its node names, if the start moved.</summary>
    public (int[] Nodes, Reservation Reservation)? ReclaimClaim { get; set; }

    /// <summary>The shape group the job is queued in, while pending.</summary>
    public ShapeGroup? Group { get; set; }

    /// <summary>The decision that already dealt with this job in its guaranteed phase.</summary>
    public int HandledStamp { get; set; }

    /// <summary>When the job's GPUs are expected back: walltime end, or kill time if it is being stopped.</summary>
    public long EndTicks => Math.Min(StartTicks + WalltimeTicks, KillTicks);

    /// <summary><see cref="EndTicks"/>, but never in the past: an overrunning job frees its GPUs "now" at the earliest.</summary>
    public long ExpectedEndTicks(long nowTicks)
    {
        var end = EndTicks;
        return end > nowTicks ? end : nowTicks;
    }
}
