using Mekong.Agent.Native;

namespace Mekong.Agent.ControlGroups;

/// <summary>
/// Creates the control groups jobs run in. One driver per agent; its groups live under
/// PARENT/NODE/ (PARENT "mekong" by default) in each hierarchy, so several agents on one machine
/// (local clusters, tests) never share a group.
/// </summary>
public abstract class CgroupDriver
{
    /// <summary>1, 2, or 0 when jobs run without limits.</summary>
    public abstract int Version { get; }

    /// <summary>Why the driver is what it is ("not root", "cgroup v1 at /sys/fs/cgroup/memory"...).</summary>
    public string Description { get; protected init; } = "";

    /// <summary>Creates (or reuses) the group of one job attempt and sets its limits.</summary>
    public abstract JobCgroup Create(string name, CgroupLimits limits);

    /// <summary>The existing group of a job attempt (after an agent restart); null when it is gone.</summary>
    public abstract JobCgroup? Open(string name);

    /// <summary>Names of the job groups under this agent's parent (to find orphans after a crash).</summary>
    public virtual IReadOnlyList<string> Groups() => [];

    /// <summary>Picks the driver for this machine: see <see cref="CgroupMode"/>.</summary>
    public static CgroupDriver Detect(CgroupMode mode, string parent, string nodeName, string root = "/sys/fs/cgroup")
    {
        var relative = Path.Combine(Sanitise(parent), Sanitise(nodeName));
        if (mode == CgroupMode.None)
        {
            return new NoCgroupDriver("disabled by --cgroups none");
        }

        if (!Libc.IsRoot)
        {
            return new NoCgroupDriver("not root: jobs run without limits");
        }

        var unified = File.Exists(Path.Combine(root, "cgroup.controllers"));
        try
        {
            if (mode == CgroupMode.V2 || (mode == CgroupMode.Auto && unified))
            {
                return unified
                    ? CgroupV2Driver.Open(root, relative)
                    : new NoCgroupDriver($"{root} is not a cgroup v2 hierarchy");
            }

            var mounts = CgroupV1Driver.FindMounts("/proc/self/mounts");
            return mounts.ContainsKey("memory")
                ? CgroupV1Driver.Open(mounts, relative)
                : new NoCgroupDriver("no cgroup v1 memory controller mounted");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new NoCgroupDriver("cannot create control groups: " + ex.Message);
        }
    }

    /// <summary>A path component from a node or job name.</summary>
    public static string Sanitise(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var s = new string(chars).TrimStart('.');
        return s.Length == 0 ? "_" : s;
    }
}

/// <summary>No control groups: no limits; the process group is all the agent can signal.</summary>
public sealed class NoCgroupDriver : CgroupDriver
{
    public NoCgroupDriver(string why) => Description = why;

    public override int Version => 0;

    public override JobCgroup Create(string name, CgroupLimits limits) => NoJobCgroup.Instance;

    public override JobCgroup? Open(string name) => null;
}
