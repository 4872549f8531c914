namespace Mekong.Policy;

/// <summary>A GPU node as the agent reports it.</summary>
/// <param name="Name">Unique node name.</param>
/// <param name="GpuType">GPU model label, for example <c>h100</c>.</param>
/// <param name="Gpus">GPUs on the node (1..64).</param>
/// <param name="CpuCores">Schedulable CPU cores.</param>
/// <param name="MemoryMb">Schedulable memory in MiB.</param>
/// <param name="Block">Topology block (switch or rack label); gangs prefer one block.</param>
public sealed record NodeSpec(string Name, string GpuType, int Gpus, int CpuCores, long MemoryMb, string Block)
{
    /// <summary>Most GPUs one node may carry: allocations are kept as a 64-bit mask per node.</summary>
    public const int MaxGpusPerNode = 64;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new PolicyException("node name is required");
        if (string.IsNullOrWhiteSpace(GpuType)) throw new PolicyException($"node {Name}: GPU type is required");
        if (Gpus is < 1 or > MaxGpusPerNode) throw new PolicyException($"node {Name}: GPU count {Gpus} is outside 1..{MaxGpusPerNode}");
        if (CpuCores < 0) throw new PolicyException($"node {Name}: CPU cores must not be negative");
        if (MemoryMb < 0) throw new PolicyException($"node {Name}: memory must not be negative");
    }
}
