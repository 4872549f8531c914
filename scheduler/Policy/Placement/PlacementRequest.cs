namespace Mekong.Policy.Placement;

/// <summary>One job's shape on one GPU type, over [Start, Start + Walltime).</summary>
internal readonly record struct PlacementRequest(int Type, int Nodes, int GpusPerNode, int Cpu, long Memory, long Walltime)
{
    public static PlacementRequest For(Jobs.Job job, int type) =>
        new(type, job.Spec.Nodes, job.Spec.GpusPerNode, job.Spec.CpuPerNode, job.Spec.MemoryMbPerNode, job.WalltimeTicks);
}
