using Mekong.Policy.Cluster;

namespace Mekong.Policy.Placement;

internal sealed partial class Placer
{
    private int[] _freedGpus = [];
    private int[] _freedCpu = [];
    private long[] _freedMemory = [];
    private int[] _freedStamp = [];
    private bool[] _ready = [];
    private int _walk;
    private readonly List<int> _readyNodes = [];

    // Claimed nodes of the walk's type. Each carries "fitted at its last check" and "changed since": a job
    // on it ended, or one of its claims ended. Between such changes a claimed node can only stop fitting as
    // t grows (its window reaches more claims), never start — so nodes are re-checked only when changed,
    // and the cached fits are confirmed only when they would be enough.
    private readonly List<int> _claimedOfType = [];
    private readonly List<int> _claimedChanged = [];
    private readonly List<(long End, int Node)> _claimEnds = [];
    private bool[] _claimFits = [];
    private bool[] _claimChanged = [];
    private int _claimFitCount;

    /// <summary>The earliest start for the request given running jobs' expected ends and existing claims;
    /// fills <see cref="Chosen"/>. Returns long.MaxValue when no up nodes can ever take it.</summary>
    /// <remarks>Walks the type's running jobs in end-time order, adding what each returns to its nodes,
    /// until enough nodes can hold the job. A node without claims that fits at T fits at every later T
    /// (capacity only returns), so it stays ready; nodes with claims are checked exactly, and claim ends
    /// are candidate instants too. The walk stops at the first instant that works, so its length is "how
    /// far ahead the job starts", not the size of the cluster.</remarks>
    public long EarliestStart(in PlacementRequest r, long now)
    {
        Chosen.Clear();
        PrepareWalk();
        _readyNodes.Clear();
        _claimedOfType.Clear();
        _claimedChanged.Clear();
        _claimEnds.Clear();
        _claimFitCount = 0;
        foreach (var n in _book.ClaimedNodes)
        {
            if (_cluster.TypeOf(n) != r.Type || !Eligible(n, r)) continue;
            _claimedOfType.Add(n);
            _claimFits[n] = false;
            _claimChanged[n] = true;
            _claimedChanged.Add(n);
            _book.AddClaimEnds(n, _claimEnds);
        }
        _claimEnds.Sort();

        // At "now": unclaimed nodes that already have room (a gang may simply need more of them).
        var visitor = new ReadyVisitor(this, r);
        _cluster.ForEachWithFree(r.Type, r.GpusPerNode, ref visitor);

        var t = now;
        var claimIndex = 0;
        using var ends = _ends.Of(r.Type).GetEnumerator();
        var more = ends.MoveNext();
        while (true)
        {
            // Everything that ends by t is returned to its nodes.
            while (more && ends.Current.ExpectedEndTicks(now) <= t)
            {
                Return(ends.Current, r);
                more = ends.MoveNext();
            }
            while (claimIndex < _claimEnds.Count && _claimEnds[claimIndex].End <= t) MarkChanged(_claimEnds[claimIndex++].Node);

            if (TryChooseAt(r, now, t)) return t;

            var next = long.MaxValue;
            if (more) next = ends.Current.ExpectedEndTicks(now);
            if (claimIndex < _claimEnds.Count) next = Math.Min(next, _claimEnds[claimIndex].End);
            if (next == long.MaxValue) return long.MaxValue;
            t = next;
        }
    }

    private bool TryChooseAt(in PlacementRequest r, long now, long t)
    {
        if (_readyNodes.Count + _claimFitCount + _claimedChanged.Count < r.Nodes) return false;
        if (r.Nodes == 1 && _readyNodes.Count > 0)
        {
            Chosen.Add(_readyNodes[0]);
            return true;
        }
        foreach (var n in _claimedChanged)
        {
            _claimChanged[n] = false;
            if (_book.Fits(_cluster, n, now, t, t + r.Walltime, r.GpusPerNode, r.Cpu, r.Memory)) { _claimFits[n] = true; _claimFitCount++; }
        }
        _claimedChanged.Clear();
        if (_readyNodes.Count + _claimFitCount < r.Nodes) return false;

        // Enough on paper: confirm the cached fits at t, and take the ones that hold.
        _candidates.Clear();
        foreach (var n in _claimedOfType)
        {
            if (!_claimFits[n]) continue;
            if (_book.Fits(_cluster, n, now, t, t + r.Walltime, r.GpusPerNode, r.Cpu, r.Memory)) _candidates.Add(n);
            else { _claimFits[n] = false; _claimFitCount--; }
        }
        if (_readyNodes.Count + _candidates.Count < r.Nodes) return false;
        if (r.Nodes == 1)
        {
            Chosen.Add(_candidates[0]);
            return true;
        }
        _candidates.AddRange(_readyNodes);
        // Best fit among the ready nodes: fewest free GPUs now first, then node index.
        _candidates.Sort((a, b) => _cluster.FreeGpus(a) != _cluster.FreeGpus(b) ? _cluster.FreeGpus(a).CompareTo(_cluster.FreeGpus(b)) : a.CompareTo(b));
        return _gangs.Choose(_candidates, _blockOf, _cluster.BlockCount, r.Nodes, Chosen);
    }

    private void MarkChanged(int n)
    {
        if (_claimChanged[n]) return;
        _claimChanged[n] = true;
        _claimedChanged.Add(n);
        if (_claimFits[n]) { _claimFits[n] = false; _claimFitCount--; }
    }

    /// <summary>A job's expected end returns its GPUs (and CPU, memory) to its nodes in the walk.</summary>
    private void Return(Jobs.Job job, in PlacementRequest r)
    {
        for (var i = 0; i < job.Nodes.Length; i++)
        {
            var n = job.Nodes[i];
            if (_freedStamp[n] != _walk)
            {
                _freedStamp[n] = _walk;
                _freedGpus[n] = 0;
                _freedCpu[n] = 0;
                _freedMemory[n] = 0;
                _ready[n] = false;
            }
            _freedGpus[n] += System.Numerics.BitOperations.PopCount(job.Masks[i]);
            _freedCpu[n] += job.Spec.CpuPerNode;
            _freedMemory[n] += job.Spec.MemoryMbPerNode;
            if (_book.HasClaims(n))
            {
                if (_cluster.TypeOf(n) == r.Type && Eligible(n, r)) MarkChanged(n);
                continue;
            }
            if (_ready[n] || !Eligible(n, r)) continue;
            if (_cluster.FreeGpus(n) + _freedGpus[n] >= r.GpusPerNode && _cluster.FreeCpu(n) + _freedCpu[n] >= r.Cpu
                && _cluster.FreeMemory(n) + _freedMemory[n] >= r.Memory)
            {
                _ready[n] = true;
                _readyNodes.Add(n);
            }
        }
    }

    private bool Eligible(int n, in PlacementRequest r) =>
        _cluster.StateOf(n) == NodeState.Up && _cluster.GpusOf(n) >= r.GpusPerNode
        && _cluster.CpuOf(n) >= r.Cpu && _cluster.MemoryOf(n) >= r.Memory;

    private void PrepareWalk()
    {
        if (_freedStamp.Length < _cluster.Count)
        {
            var size = Math.Max(_cluster.Count, _freedStamp.Length * 2);
            _freedGpus = new int[size];
            _freedCpu = new int[size];
            _freedMemory = new long[size];
            _freedStamp = new int[size];
            _ready = new bool[size];
            _claimFits = new bool[size];
            _claimChanged = new bool[size];
        }
        _walk++;
    }

    private struct ReadyVisitor(Placer placer, PlacementRequest r) : INodeVisitor
    {
        public readonly bool Visit(int node)
        {
            var c = placer._cluster;
            if (placer._book.HasClaims(node) || c.FreeCpu(node) < r.Cpu || c.FreeMemory(node) < r.Memory) return true;
            placer._freedStamp[node] = placer._walk;
            placer._freedGpus[node] = 0;
            placer._freedCpu[node] = 0;
            placer._freedMemory[node] = 0;
            placer._ready[node] = true;
            placer._readyNodes.Add(node);
            return true;
        }
    }
}
