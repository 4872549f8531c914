using Mekong.Policy;

namespace Mekong.Bench;

/// <summary>A deterministic synthetic cluster: nodes of several GPU types in topology blocks, a three-level
/// account tree with skewed shares and guarantees (80% of the cluster), decayed usage, a nearly full cluster
/// of running jobs (restored on a first-fit computed here) and a queue of pending jobs.</summary>
internal sealed class SyntheticCluster
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    /// <summary>GPU types: name, fraction of nodes, fair-share weight.</summary>
    private static readonly (string Name, double Fraction, double Weight)[] Types =
        [("h100", 0.5, 2.0), ("a100", 0.3, 1.0), ("l40s", 0.2, 0.5)];

    private const int BlockSize = 32;
    private const int CpuPerGpu = 16;
    private const long MemMbPerGpu = 128 * 1024;

    private readonly BenchOptions _o;
    private readonly Random _rng;
    private readonly int[] _nodesOfType;
    private string[] _projects = [];
    private double[] _projectPick = [];
    private long _nextId;

    private SyntheticCluster(BenchOptions o)
    {
        _o = o;
        _rng = new Random(o.Seed);
        _nodesOfType = new int[Types.Length];
        Clock = new ManualClock(Epoch);
        Engine = new PolicyEngine(
            new PolicySettings { GpuTypeWeights = Types.ToDictionary(t => t.Name, t => t.Weight) },
            Clock);
    }

    public PolicyEngine Engine { get; }

    public ManualClock Clock { get; }

    /// <summary>Ids of jobs the benchmark believes are running (not terminating).</summary>
    public RunningSet Running { get; } = new();

    public int RunningDropped { get; private set; }

    public int RunningBorrowing { get; private set; }

    public long GpusTotal { get; private set; }

    public long GpusRunning { get; private set; }

    public Dictionary<string, double> PhaseSeconds { get; } = [];

    public static SyntheticCluster Build(BenchOptions o)
    {
        var c = new SyntheticCluster(o);
        c.Phase("nodes", c.AddNodes);
        c.Phase("accounts", c.AddAccounts);
        c.Phase("usage", c.RestoreUsage);
        c.Phase("running", c.RestoreRunning);
        c.Phase("pending", () =>
        {
            for (var i = 0; i < o.Pending; i++)
                c.Engine.Submit(c.NewJob(c.Epoch0 - TimeSpan.FromMinutes(c._rng.Next(0, 72 * 60))));
        });
        return c;
    }

    private DateTimeOffset Epoch0 => Clock.GetUtcNow();

    private void Phase(string name, Action action)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        action();
        PhaseSeconds[name] = sw.Elapsed.TotalSeconds;
    }

    private static string NodeName(int i) => $"node{i:D5}";

    private int TypeOfNode(int i)
    {
        // Contiguous ranges by fraction, so topology blocks are (nearly all) of one type.
        var x = (i + 0.5) / _o.Nodes;
        var acc = 0.0;
        for (var t = 0; t < Types.Length; t++)
        {
            acc += Types[t].Fraction;
            if (x < acc) return t;
        }
        return Types.Length - 1;
    }

    private void AddNodes()
    {
        var g = _o.GpusPerNode;
        for (var i = 0; i < _o.Nodes; i++)
        {
            var t = TypeOfNode(i);
            _nodesOfType[t]++;
            Engine.NodeUp(new NodeSpec(NodeName(i), Types[t].Name, g, g * CpuPerGpu, g * MemMbPerGpu, $"blk{i / BlockSize:D4}"));
        }
        GpusTotal = (long)_o.Nodes * g;
    }

    // ------------------------------------------------------------ accounts

    private readonly List<(string Path, int Org, int[] Guarantee)> _projectInfo = [];
    private int[][] _orgGuarantee = [];
    private readonly Dictionary<string, int> _projectIndex = new(StringComparer.Ordinal);

    private void AddAccounts()
    {
        var orgs = Math.Min(20, _o.Projects);
        // Skewed organisation sizes: a few large centres, many small groups.
        var orgWeight = new double[orgs];
        for (var i = 0; i < orgs; i++) orgWeight[i] = 0.15 + Math.Pow(_rng.NextDouble(), 2);
        var projectsPerOrg = Split(_o.Projects - orgs, orgWeight).Select(n => n + 1).ToArray();
        var orgGuarantee = Types.Select((_, t) => Split((int)(0.8 * _nodesOfType[t] * _o.GpusPerNode), orgWeight)).ToArray();
        _orgGuarantee = new int[orgs][];
        for (var o = 0; o < orgs; o++)
        {
            var org = $"org{o:D2}";
            _orgGuarantee[o] = Types.Select((_, t) => orgGuarantee[t][o]).ToArray();
            Engine.SetAccount(new AccountSpec(org)
            {
                Shares = Math.Max(1, (int)Math.Round(orgWeight[o] * 10)),
                Guarantee = Types.Select((ty, t) => (ty.Name, orgGuarantee[t][o])).ToDictionary(),
            });
            var pw = new double[projectsPerOrg[o]];
            for (var p = 0; p < pw.Length; p++) pw[p] = 0.05 + Math.Pow(_rng.NextDouble(), 3);
            var projectGuarantee = Types.Select((_, t) => Split(orgGuarantee[t][o], pw)).ToArray();
            for (var p = 0; p < pw.Length; p++)
            {
                var path = $"{org}/proj{_projectInfo.Count:D4}";
                var guarantee = Types.Select((_, t) => projectGuarantee[t][p]).ToArray();
                var limited = _rng.NextDouble() < 0.1;
                var budget = _rng.NextDouble() < 0.05;
                Engine.SetAccount(new AccountSpec(path)
                {
                    Shares = 1 + _rng.Next(10),
                    Guarantee = Types.Select((ty, t) => (ty.Name, guarantee[t])).ToDictionary(),
                    Limit = limited ? Types.Select((ty, t) => (ty.Name, (2 * guarantee[t]) + (8 * _o.GpusPerNode))).ToDictionary() : new Dictionary<string, int>(),
                    Budget = budget ? new Budget(10_000_000, BudgetPeriod.Quarter, BudgetAction.Hold) : null,
                    PriorityPreemption = _rng.NextDouble() * 100 < _o.PriorityPreemptionPercent,
                });
                _projectInfo.Add((path, o, guarantee));
            }
        }
        _projects = [.. _projectInfo.Select(p => p.Path)];
        for (var p = 0; p < _projects.Length; p++) _projectIndex[_projects[p]] = p;
        // Which projects submit: heavily skewed (a few projects hold most of the queue).
        _projectPick = new double[_projects.Length];
        var acc = 0.0;
        for (var p = 0; p < _projectPick.Length; p++) _projectPick[p] = acc += 0.02 + Math.Pow(_rng.NextDouble(), 3);
    }

    /// <summary>Splits <paramref name="total"/> in proportion to the weights, rounding down (never more than total).</summary>
    private static int[] Split(int total, double[] weights)
    {
        var sum = weights.Sum();
        return [.. weights.Select(w => (int)Math.Floor(total * w / sum))];
    }

    private void RestoreUsage()
    {
        // Steady state of the decayed integral: rate × halfLife / ln 2 seconds; the cluster ran ~85% full.
        var meanWeight = Types.Sum(t => t.Fraction * t.Weight);
        var total = GpusTotal * 0.85 * meanWeight * TimeSpan.FromDays(7).TotalSeconds / Math.Log(2);
        var w = new double[_projects.Length];
        for (var p = 0; p < w.Length; p++) w[p] = (_projectPick[p] - (p == 0 ? 0 : _projectPick[p - 1])) * (0.2 + (2.8 * _rng.NextDouble()));
        var sum = w.Sum();
        for (var p = 0; p < w.Length; p++) Engine.RestoreUsage(_projects[p], total * w[p] / sum, 0);
    }

    // ------------------------------------------------------------ jobs

    public JobSpec NewJob(DateTimeOffset submit) => NewJob(submit, RealisticShape());

    private JobSpec NewJob(DateTimeOffset submit, (int Nodes, int GpusPerNode) shape)
    {
        var id = new JobId(++_nextId);
        var r = _rng.NextDouble();
        string? type = null;
        if (r < 0.95)
        {
            var acc = 0.0;
            foreach (var t in Types)
            {
                acc += t.Fraction * 0.95;
                if (r < acc) { type = t.Name; break; }
            }
            type ??= Types[^1].Name;
        }
        var pr = _rng.NextDouble();
        var x = _rng.NextDouble() * _projectPick[^1];
        var project = Array.BinarySearch(_projectPick, x);
        project = project < 0 ? Math.Min(~project, _projects.Length - 1) : project;
        var hours = 1 + (int)(71 * Math.Pow(_rng.NextDouble(), 2));
        return new JobSpec(id, _projects[project], $"user{_rng.Next(5000):D4}", $"job{id.Value}",
            shape.Nodes, shape.GpusPerNode, type, TimeSpan.FromHours(hours) - TimeSpan.FromMinutes(_rng.Next(0, 30)), submit)
        {
            CpuPerNode = shape.GpusPerNode * (CpuPerGpu - 4),
            MemoryMbPerNode = shape.GpusPerNode * (MemMbPerGpu - (32 * 1024)),
            Priority = pr < 0.15 ? JobPriority.High : pr < 0.85 ? JobPriority.Normal : JobPriority.Low,
            Preemptible = _rng.NextDouble() < 0.9,
        };
    }

    /// <summary>45% 1 GPU, 15% 2, 15% 4, 20% a whole node, 5% gangs of 2–8 whole nodes.</summary>
    private (int Nodes, int GpusPerNode) RealisticShape()
    {
        var g = _o.GpusPerNode;
        var r = _rng.NextDouble();
        return r switch
        {
            < 0.45 => (1, 1),
            < 0.60 => (1, Math.Min(2, g)),
            < 0.75 => (1, Math.Min(4, g)),
            < 0.95 => (1, g),
            _ => (2 + _rng.Next(7), g),
        };
    }

    private void RestoreRunning()
    {
        // Exactly --running jobs filling ~95% of the GPUs: the realistic mix averages ~5 GPUs a job, so at
        // 60,000 jobs on 80,000 GPUs most running jobs must be single-GPU; mix the two to hit the mean.
        var budget = 0.95 * GpusTotal;
        var n = _o.Running;
        var targetMean = n == 0 ? 1 : budget / n;
        var realisticMean = RealisticMean();
        var q = Math.Clamp((targetMean - 1) / (realisticMean - 1), 0, 1);
        var specs = new List<(int Nodes, int Gpus)>(n);
        long gpus = 0;
        for (var i = 0; i < n; i++)
        {
            var s = _rng.NextDouble() < q ? RealisticShape() : (1, 1);
            if (gpus + (s.Item1 * s.Item2) > budget) s = (1, 1);
            gpus += s.Item1 * s.Item2;
            specs.Add(s);
        }
        // Largest first: with power-of-two sizes a cursor first-fit then packs nodes exactly.
        specs.Sort((a, b) => (b.Nodes * b.Gpus).CompareTo(a.Nodes * a.Gpus));

        var g = _o.GpusPerNode;
        var free = new int[_o.Nodes];
        Array.Fill(free, g);
        var first = new int[Types.Length];
        var end = new int[Types.Length];
        for (var t = 0; t < Types.Length; t++)
        {
            first[t] = t == 0 ? 0 : end[t - 1];
            end[t] = first[t] + _nodesOfType[t];
        }
        var cursor = (int[])first.Clone();
        var within = new Dictionary<(int Account, int Type), int>();
        var now = Clock.GetUtcNow();

        foreach (var (nodes, perNode) in specs)
        {
            var spec = NewJob(now, (nodes, perNode));
            var t = spec.GpuType is null
                ? Enumerable.Range(0, Types.Length).MaxBy(k => end[k] - cursor[k])
                : Array.FindIndex(Types, ty => ty.Name == spec.GpuType);
            while (cursor[t] < end[t] && free[cursor[t]] < perNode) cursor[t]++;
            if (cursor[t] + nodes > end[t]) { RunningDropped++; continue; }
            var allocations = new NodeAllocation[nodes];
            for (var k = 0; k < nodes; k++)
            {
                var node = cursor[t] + k;
                var used = g - free[node];
                var mask = (perNode == 64 ? ulong.MaxValue : ((1UL << perNode) - 1)) << used;
                allocations[k] = new NodeAllocation(NodeName(node), mask);
                free[node] -= perNode;
            }
            var project = _projectIndex[spec.Project];
            var info = _projectInfo[project];
            var total = nodes * perNode;
            var guaranteed = within.GetValueOrDefault((project, t)) + total <= info.Guarantee[t]
                && within.GetValueOrDefault((-1 - info.Org, t)) + total <= _orgGuarantee[info.Org][t];
            if (guaranteed)
            {
                within[(project, t)] = within.GetValueOrDefault((project, t)) + total;
                within[(-1 - info.Org, t)] = within.GetValueOrDefault((-1 - info.Org, t)) + total;
            }
            else
            {
                RunningBorrowing++;
                spec = spec with { Preemptible = true };
            }
            var started = now - TimeSpan.FromTicks((long)(spec.Walltime.Ticks * 0.9 * _rng.NextDouble()));
            spec = spec with { SubmitTime = started - TimeSpan.FromMinutes(_rng.Next(0, 600)) };
            Engine.RestoreRunning(spec, allocations, started, borrowing: !guaranteed);
            Running.Add(spec.Id);
            GpusRunning += total;
        }
    }

    private double RealisticMean()
    {
        var g = _o.GpusPerNode;
        return (0.45 * 1) + (0.15 * Math.Min(2, g)) + (0.15 * Math.Min(4, g)) + (0.20 * g) + (0.05 * 5 * g);
    }

    public int NextRandom(int max) => _rng.Next(max);
}
