using Mekong.Policy.Backfill;
using Mekong.Policy.Cluster;

namespace Mekong.Policy.Placement;

/// <summary>Where a job can go, now or at the earliest later instant. The chain is fixed: type filter
/// (the free-GPU index) → fit filter (GPUs, CPU, memory, claims of reservations) → best-fit order
/// (fewest free GPUs first, then node index) → gang block choice.</summary>
internal sealed class Placer
{
    private readonly ClusterState _cluster;
    private readonly ReservationBook _book;
    private readonly GangSelector _gangs = new();
    private readonly List<int> _candidates = [];
    private readonly List<(long Time, int Node)> _timed = [];
    private readonly Func<int, int> _blockOf;

    public Placer(ClusterState cluster, ReservationBook book)
    {
        _cluster = cluster;
        _book = book;
        _blockOf = cluster.BlockOf;
    }

    /// <summary>Nodes chosen by the last successful call.</summary>
    public List<int> Chosen { get; } = [];

    public int Attempts { get; private set; }

    public void ResetCounters() => Attempts = 0;

    /// <summary>Finds nodes for the request now, respecting every claim. Fills <see cref="Chosen"/>.</summary>
    public bool TryPlaceNow(in PlacementRequest r, long now)
    {
        Attempts++;
        Chosen.Clear();
        if (_cluster.CountWithFree(r.Type, r.GpusPerNode) < r.Nodes) return false;
        var visitor = new FitVisitor(this, r, now, r.Nodes == 1 ? Chosen : _candidates);
        _candidates.Clear();
        _cluster.ForEachWithFree(r.Type, r.GpusPerNode, ref visitor);
        if (r.Nodes == 1) return Chosen.Count == 1;
        return _gangs.Choose(_candidates, _blockOf, _cluster.BlockCount, r.Nodes, Chosen);
    }

    /// <summary>The earliest start for the request given running jobs' expected ends and existing claims;
    /// fills <see cref="Chosen"/>. Returns long.MaxValue when the request cannot be met by up nodes.</summary>
    public long EarliestStart(in PlacementRequest r, long now)
    {
        Chosen.Clear();
        _timed.Clear();
        var best = long.MaxValue;
        foreach (var node in _cluster.NodesOfType(r.Type))
        {
            if (_cluster.StateOf(node) != NodeState.Up || _cluster.GpusOf(node) < r.GpusPerNode
                || _cluster.CpuOf(node) < r.Cpu || _cluster.MemoryOf(node) < r.Memory) continue;
            // For a single node the best so far bounds the search; a gang needs every node's time.
            var bound = r.Nodes == 1 ? best : long.MaxValue - 1;
            var t = _book.EarliestFit(_cluster, node, now, r.Walltime, r.GpusPerNode, r.Cpu, r.Memory, bound);
            if (t == long.MaxValue) continue;
            if (r.Nodes == 1)
            {
                if (t < best) { best = t; Chosen.Clear(); Chosen.Add(node); }
                continue;
            }
            _timed.Add((t, node));
        }
        if (r.Nodes == 1) return best;
        if (_timed.Count < r.Nodes) return long.MaxValue;

        // A gang starts when its k-th node is ready; nodes with claims may not stay ready, so confirm.
        _timed.Sort();
        for (var i = r.Nodes - 1; i < _timed.Count; i++)
        {
            var t = _timed[i].Time;
            if (i + 1 < _timed.Count && _timed[i + 1].Time == t) continue;
            _candidates.Clear();
            for (var j = 0; j <= i; j++)
            {
                var node = _timed[j].Node;
                if (_book.HasClaims(node) && !_book.Fits(_cluster, node, now, t, t + r.Walltime, r.GpusPerNode, r.Cpu, r.Memory)) continue;
                _candidates.Add(node);
            }
            if (_candidates.Count < r.Nodes) continue;
            _candidates.Sort((a, b) => _cluster.FreeGpus(a) != _cluster.FreeGpus(b) ? _cluster.FreeGpus(a).CompareTo(_cluster.FreeGpus(b)) : a.CompareTo(b));
            _gangs.Choose(_candidates, _blockOf, _cluster.BlockCount, r.Nodes, Chosen);
            return t;
        }
        return long.MaxValue;
    }

    private struct FitVisitor(Placer placer, PlacementRequest r, long now, List<int> into) : INodeVisitor
    {
        public readonly bool Visit(int node)
        {
            var cluster = placer._cluster;
            if (cluster.FreeCpu(node) < r.Cpu || cluster.FreeMemory(node) < r.Memory) return true;
            if (placer._book.HasClaims(node)
                && !placer._book.Fits(cluster, node, now, now, now + r.Walltime, r.GpusPerNode, r.Cpu, r.Memory)) return true;
            into.Add(node);
            return r.Nodes > 1;
        }
    }
}
