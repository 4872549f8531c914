namespace Mekong.Policy.Cluster;

/// <summary>One running job's share of one node, kept on the node so that "what frees up here, and when"
/// is a walk over a handful of entries.</summary>
/// <remarks>It also carries what a victim search reads of every tenant — the job's project, priority, start,
/// size, grace period, and whether it borrows or is stopping — so a search over thousands of nodes reads the slots alone
/// and touches only the jobs it takes. <see cref="ClusterState.TenantChanged"/> keeps the two that change.</remarks>
internal struct TenantSlot
{
    public Jobs.Job Job;
    public ulong Mask;
    public int Gpus;
    public int Cpu;
    public long Memory;
    public int Project;
    public int TotalGpus;
    public long StartTicks;
    public long GraceTicks;
    public bool Low;
    public bool Borrowing;
    public bool Terminating;
}
