namespace Mekong.Agent.ControlGroups;

/// <summary>Which control group interface the agent uses for job limits.</summary>
public enum CgroupMode
{
    /// <summary>v2 where /sys/fs/cgroup is the unified hierarchy, else v1 where its controllers are mounted, else none.</summary>
    Auto,

    /// <summary>None: jobs run without limits (Inventory.cgroup_version 0).</summary>
    None,

    /// <summary>cgroup v1: memory, cpu, cpuacct and pids controllers, each its own hierarchy or co-mounted.</summary>
    V1,

    /// <summary>cgroup v2: one unified hierarchy.</summary>
    V2,
}

/// <summary>Limits of one job's control group.</summary>
public readonly record struct CgroupLimits(ulong MemoryBytes, uint CpuCores);

/// <summary>Usage counters of one job's control group.</summary>
public readonly record struct CgroupUsage(double CpuSeconds, ulong MemoryBytes);
