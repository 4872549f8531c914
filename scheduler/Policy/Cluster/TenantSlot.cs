namespace Mekong.Policy.Cluster;

/// <summary>One running job's share of one node, kept on the node so that "what frees up here, and when"
/// is a walk over a handful of entries.</summary>
internal struct TenantSlot
{
    public Jobs.Job Job;
    public ulong Mask;
    public int Gpus;
    public int Cpu;
    public long Memory;
}
