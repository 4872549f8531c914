using Mekong.Policy.Backfill;
using Mekong.Policy.Cluster;

namespace Mekong.Policy.Placement;

/// <summary>Where a job can go, now or at the earliest later instant. The chain is fixed: type filter
/// (the free-GPU index) → fit filter (GPUs, CPU, memory, claims of reservations) → best-fit order
/// (fewest free GPUs first, then node index) → gang block choice.</summary>
internal sealed partial class Placer
{
    private readonly ClusterState _cluster;
    private readonly ReservationBook _book;
    private readonly ReadyOrder _readyOrder;
    private readonly GangSelector _gangs = new();
    private readonly List<int> _candidates = [];
    private readonly Func<int, int> _blockOf;

    public Placer(ClusterState cluster, ReservationBook book, ReadyOrder ready)
    {
        _cluster = cluster;
        _book = book;
        _readyOrder = ready;
        _blockOf = cluster.BlockOf;
        _bestFit = (a, b) => _cluster.FreeGpus(a) != _cluster.FreeGpus(b) ? _cluster.FreeGpus(a).CompareTo(_cluster.FreeGpus(b)) : a.CompareTo(b);
    }

    /// <summary>Best fit: fewest free GPUs now first, then node index.</summary>
    private readonly Comparison<int> _bestFit;

    /// <summary>Nodes chosen by the last successful call.</summary>
    public List<int> Chosen { get; } = [];

    public int Attempts { get; private set; }

    /// <summary>After a failed <see cref="TryPlaceNow"/>: the longest walltime with which the same shape
    /// would have fitted now (-1 if none). Claims cap how long a job may hold a node; without claims in
    /// the way a failure means no walltime fits.</summary>
    public long LongestFittingWalltime { get; private set; }

    private readonly List<long> _longest = [];

    public void ResetCounters() => Attempts = 0;

    /// <summary>Finds nodes for the request now, respecting every claim. Fills <see cref="Chosen"/>.</summary>
    public bool TryPlaceNow(in PlacementRequest r, long now)
    {
        Attempts++;
        Chosen.Clear();
        _longest.Clear();
        LongestFittingWalltime = -1;
        if (_cluster.CountWithFree(r.Type, r.GpusPerNode) < r.Nodes) return false;
        var visitor = new FitVisitor(this, r, now, r.Nodes == 1 ? Chosen : _candidates);
        _candidates.Clear();
        _cluster.ForEachWithFree(r.Type, r.GpusPerNode, ref visitor);
        var placed = r.Nodes == 1 ? Chosen.Count == 1 : _gangs.Choose(_candidates, _blockOf, _cluster.BlockCount, r.Nodes, Chosen);
        if (!placed && _longest.Count + _candidates.Count >= r.Nodes)
        {
            // Nodes refused only by claims: the job would fit if it ended before enough of them are needed.
            _longest.Sort();
            LongestFittingWalltime = _longest[^(r.Nodes - (r.Nodes == 1 ? 0 : _candidates.Count))];
        }
        return placed;
    }

    /// <summary>Places the request on exactly these nodes (as many as it needs) if each can take its share
    /// now; fills <see cref="Chosen"/>.</summary>
    public bool TryPlaceOn(in PlacementRequest r, int[] nodes, long now)
    {
        Chosen.Clear();
        if (nodes.Length != r.Nodes) return false;
        foreach (var n in nodes)
        {
            if (_cluster.StateOf(n) != NodeState.Up || _cluster.TypeOf(n) != r.Type || _cluster.FreeGpus(n) < r.GpusPerNode
                || _cluster.FreeCpu(n) < r.Cpu || _cluster.FreeMemory(n) < r.Memory
                || (_book.HasClaims(n) && !_book.Fits(_cluster, n, now, now, now + r.Walltime, r.GpusPerNode, r.Cpu, r.Memory))) return false;
        }
        Chosen.AddRange(nodes);
        return true;
    }

    private struct FitVisitor(Placer placer, PlacementRequest r, long now, List<int> into) : INodeVisitor
    {
        public readonly bool Visit(int node)
        {
            var cluster = placer._cluster;
            if (cluster.FreeCpu(node) < r.Cpu || cluster.FreeMemory(node) < r.Memory) return true;
            if (placer._book.HasClaims(node)
                && !placer._book.Fits(cluster, node, now, now, now + r.Walltime, r.GpusPerNode, r.Cpu, r.Memory))
            {
                var longest = placer._book.LongestFit(cluster, node, now, r.GpusPerNode, r.Cpu, r.Memory);
                if (longest >= 0) placer._longest.Add(longest);
                return true;
            }
            into.Add(node);
            return r.Nodes > 1;
        }
    }
}
