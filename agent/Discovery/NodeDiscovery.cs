using System.Globalization;
using Mekong.Api.V1;

namespace Mekong.Agent.Discovery;

/// <summary>Finds the node's GPUs, CPU cores and memory.</summary>
public static class NodeDiscovery
{
    /// <summary>Simulated GPUs when asked for, else nvidia-smi's, else none.</summary>
    public static NodeInventory Discover(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<Gpu> gpus;
        var driver = "";
        if (options.SimulateGpus is { } n)
        {
            gpus = Simulated(options.NodeName, n, options.GpuType ?? "sim");
            driver = "simulated";
        }
        else if (NvidiaSmi.Query(options.NvidiaSmi, NvidiaSmi.GpuQuery) is { } csv)
        {
            (gpus, driver) = NvidiaSmi.ParseGpus(csv, options.GpuType);
        }
        else
        {
            gpus = [];
        }

        return new NodeInventory(
            gpus,
            options.CpuCores ?? (uint)Environment.ProcessorCount,
            options.MemoryBytes ?? MemoryTotal(),
            options.TopologyBlock,
            driver);
    }

    /// <summary>N GPUs with stable made-up UUIDs (per node and index), 80 GiB each.</summary>
    public static List<Gpu> Simulated(string nodeName, int count, string gpuType) =>
        Enumerable.Range(0, count).Select(i => new Gpu
        {
            Index = (uint)i,
            Uuid = $"GPU-sim-{CgroupSafe(nodeName)}-{i}",
            Model = "Simulated " + gpuType.ToUpperInvariant(),
            MemoryBytes = 80UL << 30,
            GpuType = gpuType,
            Healthy = true,
        }).ToList();

    /// <summary>MemTotal from /proc/meminfo, in bytes.</summary>
    public static ulong MemoryTotal()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    var kb = line["MemTotal:".Length..].Trim().Split(' ')[0];
                    return ulong.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return (ulong)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static string CgroupSafe(string name) => ControlGroups.CgroupDriver.Sanitise(name);
}
