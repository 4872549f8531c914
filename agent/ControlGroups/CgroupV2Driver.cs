using System.Globalization;

namespace Mekong.Agent.ControlGroups;

/// <summary>
/// cgroup v2: one directory per job under the unified hierarchy, with memory.max (and
/// memory.swap.max 0), cpu.max, cgroup.kill where the kernel has it (5.14+), and memory.events'
/// oom_kill. The memory, cpu and pids controllers are enabled in subtree_control down the path
/// (v2's rule: a controller is available to a group only if its parent delegates it).
/// </summary>
public sealed class CgroupV2Driver : CgroupDriver
{
    private static readonly string[] Wanted = ["memory", "cpu", "pids"];
    private readonly string _parent;

    private CgroupV2Driver(string parent)
    {
        _parent = parent;
        Description = "cgroup v2 under " + parent;
    }

    public override int Version => 2;

    public static CgroupV2Driver Open(string root, string relative)
    {
        var dir = root;
        EnableControllers(dir);
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            dir = Path.Combine(dir, part);
            Directory.CreateDirectory(dir);
            EnableControllers(dir);
        }

        return new CgroupV2Driver(dir);
    }

    public override JobCgroup Create(string name, CgroupLimits limits)
    {
        var dir = Path.Combine(_parent, Sanitise(name));
        Directory.CreateDirectory(dir);
        if (limits.MemoryBytes > 0)
        {
            File.WriteAllText(Path.Combine(dir, "memory.max"), limits.MemoryBytes.ToString(CultureInfo.InvariantCulture));
            var swap = Path.Combine(dir, "memory.swap.max");
            if (File.Exists(swap))
            {
                File.WriteAllText(swap, "0");
            }
        }

        if (limits.CpuCores > 0)
        {
            File.WriteAllText(Path.Combine(dir, "cpu.max"), (limits.CpuCores * 100_000L).ToString(CultureInfo.InvariantCulture) + " 100000");
        }

        return new V2JobCgroup(dir);
    }

    public override JobCgroup? Open(string name)
    {
        var dir = Path.Combine(_parent, Sanitise(name));
        return Directory.Exists(dir) ? new V2JobCgroup(dir) : null;
    }

    public override IReadOnlyList<string> Groups() =>
        Directory.Exists(_parent) ? Directory.GetDirectories(_parent).Select(d => Path.GetFileName(d)!).ToList() : [];

    private static void EnableControllers(string dir)
    {
        var available = File.ReadAllText(Path.Combine(dir, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var wanted = Wanted.Where(available.Contains).Select(c => "+" + c);
        var line = string.Join(' ', wanted);
        if (line.Length > 0)
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), line);
        }
    }

    private sealed class V2JobCgroup : JobCgroup
    {
        private readonly string _dir;

        public V2JobCgroup(string dir)
        {
            _dir = dir;
            ProcsFiles = [Path.Combine(dir, "cgroup.procs")];
        }

        public override IReadOnlyList<string> ProcsFiles { get; }

        public override IReadOnlyList<int> Pids() => ReadPids(ProcsFiles[0]);

        public override CgroupUsage? Usage()
        {
            var usec = ReadKey(Path.Combine(_dir, "cpu.stat"), "usage_usec");
            var anon = ReadKey(Path.Combine(_dir, "memory.stat"), "anon");
            return new CgroupUsage(usec / 1e6, (ulong)Math.Max(0, anon));
        }

        public override long OomKills() => ReadKey(Path.Combine(_dir, "memory.events"), "oom_kill");

        public override void Signal(int signal)
        {
            var kill = Path.Combine(_dir, "cgroup.kill");
            if (signal == Native.Libc.SIGKILL && File.Exists(kill))
            {
                File.WriteAllText(kill, "1");
                return;
            }

            base.Signal(signal);
        }

        protected override bool TryRemove() => RemoveDirectory(_dir);
    }
}
