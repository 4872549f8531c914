using Mekong.Api.V1;

namespace Mekong.Agent.Discovery;

/// <summary>What the node offers, as discovered at start.</summary>
public sealed record NodeInventory(IReadOnlyList<Gpu> Gpus, uint CpuCores, ulong MemoryBytes, string TopologyBlock, string DriverVersion)
{
    /// <summary>The Inventory message, with the jobs running now and the control group version.</summary>
    public Inventory ToMessage(IEnumerable<RunningJob> running, int cgroupVersion)
    {
        var inventory = new Inventory
        {
            CpuCores = CpuCores,
            MemoryBytes = MemoryBytes,
            TopologyBlock = TopologyBlock,
            DriverVersion = DriverVersion,
            CgroupVersion = (uint)cgroupVersion,
        };
        inventory.Gpus.AddRange(Gpus.Select(g => g.Clone()));
        inventory.RunningJobs.AddRange(running);
        return inventory;
    }
}
