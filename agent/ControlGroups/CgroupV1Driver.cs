using System.Globalization;

namespace Mekong.Agent.ControlGroups;

/// <summary>
/// cgroup v1: a job's group is a directory of the same relative name in the memory, cpu, cpuacct and
/// pids hierarchies (co-mounted ones, "cpu,cpuacct", count once). Memory: memory.limit_in_bytes (and
/// memsw, so swap cannot stretch it); CPU: CFS quota; the OOM kill counter is memory.oom_control's
/// oom_kill.
/// </summary>
public sealed class CgroupV1Driver : CgroupDriver
{
    private static readonly string[] Controllers = ["memory", "cpu", "cpuacct", "pids"];
    private readonly IReadOnlyDictionary<string, string> _parents;

    private CgroupV1Driver(IReadOnlyDictionary<string, string> parents, string description)
    {
        _parents = parents;
        Description = description;
    }

    public override int Version => 1;

    /// <summary>Controller name → mount point, from a mounts file.</summary>
    public static Dictionary<string, string> FindMounts(string mountsFile)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(mountsFile))
        {
            var f = line.Split(' ');
            if (f.Length < 4 || f[2] != "cgroup")
            {
                continue;
            }

            foreach (var option in f[3].Split(','))
            {
                if (Controllers.Contains(option))
                {
                    result.TryAdd(option, f[1]);
                }
            }
        }

        return result;
    }

    /// <summary>Creates PARENT/NODE in each hierarchy (which proves the agent may).</summary>
    public static CgroupV1Driver Open(IReadOnlyDictionary<string, string> mounts, string relative)
    {
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (controller, mount) in mounts)
        {
            var dir = Path.Combine(mount, relative);
            Directory.CreateDirectory(dir);
            parents[controller] = dir;
        }

        return new CgroupV1Driver(parents, "cgroup v1 (" + string.Join(", ", parents.Keys.Order(StringComparer.Ordinal)) + ") under " + parents["memory"]);
    }

    public override JobCgroup Create(string name, CgroupLimits limits)
    {
        var dirs = Dirs(name);
        foreach (var dir in dirs.Values.Distinct())
        {
            Directory.CreateDirectory(dir);
        }

        if (limits.MemoryBytes > 0)
        {
            var bytes = limits.MemoryBytes.ToString(CultureInfo.InvariantCulture);
            File.WriteAllText(Path.Combine(dirs["memory"], "memory.limit_in_bytes"), bytes);
            TryWrite(Path.Combine(dirs["memory"], "memory.memsw.limit_in_bytes"), bytes);
        }

        if (limits.CpuCores > 0 && dirs.TryGetValue("cpu", out var cpu))
        {
            File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), "100000");
            File.WriteAllText(Path.Combine(cpu, "cpu.cfs_quota_us"), (limits.CpuCores * 100_000L).ToString(CultureInfo.InvariantCulture));
        }

        return new V1JobCgroup(dirs);
    }

    public override JobCgroup? Open(string name)
    {
        var dirs = Dirs(name);
        return Directory.Exists(dirs["memory"]) ? new V1JobCgroup(dirs) : null;
    }

    public override IReadOnlyList<string> Groups() =>
        Directory.Exists(_parents["memory"]) ? Directory.GetDirectories(_parents["memory"]).Select(d => Path.GetFileName(d)!).ToList() : [];

    private Dictionary<string, string> Dirs(string name) =>
        _parents.ToDictionary(p => p.Key, p => Path.Combine(p.Value, Sanitise(name)), StringComparer.Ordinal);

    private static void TryWrite(string file, string value)
    {
        try
        {
            if (File.Exists(file))
            {
                File.WriteAllText(file, value);
            }
        }
        catch (IOException)
        {
            // memsw is absent or refused without swap accounting; the memory limit alone still holds.
        }
    }

    private sealed class V1JobCgroup : JobCgroup
    {
        private readonly IReadOnlyDictionary<string, string> _dirs;

        public V1JobCgroup(IReadOnlyDictionary<string, string> dirs)
        {
            _dirs = dirs;
            ProcsFiles = dirs.Values.Distinct().Select(d => Path.Combine(d, "cgroup.procs")).ToList();
        }

        public override IReadOnlyList<string> ProcsFiles { get; }

        public override IReadOnlyList<int> Pids() => ReadPids(Path.Combine(_dirs["memory"], "cgroup.procs"));

        public override CgroupUsage? Usage()
        {
            var cpuNs = _dirs.TryGetValue("cpuacct", out var acct) ? ReadLong(Path.Combine(acct, "cpuacct.usage")) ?? 0 : 0;
            var rss = ReadKey(Path.Combine(_dirs["memory"], "memory.stat"), "total_rss");
            return new CgroupUsage(cpuNs / 1e9, (ulong)Math.Max(0, rss));
        }

        public override long OomKills() => ReadKey(Path.Combine(_dirs["memory"], "memory.oom_control"), "oom_kill");

        protected override bool TryRemove()
        {
            var ok = true;
            foreach (var dir in _dirs.Values.Distinct())
            {
                ok &= RemoveDirectory(dir);
            }

            return ok;
        }
    }
}
