namespace Mekong.Policy;

/// <summary>What a job asks for. The host validates user input; the core re-checks what it relies on.</summary>
/// <param name="Id">Host-assigned identity.</param>
/// <param name="Project">Path of the leaf account the job is charged to.</param>
/// <param name="User">Submitting user.</param>
/// <param name="Name">Human name.</param>
/// <param name="Nodes">Number of nodes; more than one makes a gang (all or nothing).</param>
/// <param name="GpusPerNode">GPUs on each node.</param>
/// <param name="GpuType">GPU type, or null for any type.</param>
/// <param name="Walltime">Walltime limit; reservations are computed from it.</param>
/// <param name="SubmitTime">Original submit time; a requeued job keeps it and so its place.</param>
public sealed record JobSpec(
    JobId Id,
    string Project,
    string User,
    string Name,
    int Nodes,
    int GpusPerNode,
    string? GpuType,
    TimeSpan Walltime,
    DateTimeOffset SubmitTime)
{
    public int CpuPerNode { get; init; }

    public long MemoryMbPerNode { get; init; }

    public JobPriority Priority { get; init; } = JobPriority.Normal;

    /// <summary>Whether the job accepts preemption. Only preemptible jobs may borrow beyond the guarantee.</summary>
    public bool Preemptible { get; init; } = true;

    /// <summary>Time between SIGTERM and SIGKILL when preempted or cancelled, for checkpointing.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether a job lost with its node goes back to pending.</summary>
    public bool Requeue { get; init; } = true;

    /// <summary>Times this job has already been preempted (restored after a restart).</summary>
    public int PreemptionCount { get; init; }

    /// <summary>Total GPUs over all nodes.</summary>
    public int TotalGpus => Nodes * GpusPerNode;

    /// <summary>Whether the job is a multi-node gang.</summary>
    public bool IsGang => Nodes > 1;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Project)) throw new PolicyException($"job {Id}: project is required");
        if (Nodes < 1) throw new PolicyException($"job {Id}: nodes must be at least 1");
        if (GpusPerNode < 1) throw new PolicyException($"job {Id}: GPUs per node must be at least 1");
        if (GpusPerNode > NodeSpec.MaxGpusPerNode) throw new PolicyException($"job {Id}: GPUs per node must be at most {NodeSpec.MaxGpusPerNode}");
        if (Walltime <= TimeSpan.Zero) throw new PolicyException($"job {Id}: walltime must be positive");
        if (CpuPerNode < 0) throw new PolicyException($"job {Id}: CPU per node must not be negative");
        if (MemoryMbPerNode < 0) throw new PolicyException($"job {Id}: memory per node must not be negative");
        if (GracePeriod < TimeSpan.Zero) throw new PolicyException($"job {Id}: grace period must not be negative");
    }
}
