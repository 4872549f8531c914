using Mekong.Policy.Backfill;
using Mekong.Policy.Cluster;
using Mekong.Policy.Jobs;
using Mekong.Policy.Placement;

namespace Mekong.Policy.Preemption;

/// <summary>Finds the smallest set of running jobs whose removal lets a job be placed.</summary>
/// <remarks>On each node, victims are taken in preference order — accounts furthest over their fair share
/// first, then the most recently started (least work lost) — until the job fits; jobs already stopping
/// count as free at no cost. The node (or, for a gang, the block) needing the fewest victims wins, then
/// the least work lost. Only nodes without other reservations' claims are considered, so reclaiming never
/// takes what a higher-ranked reservation holds.</remarks>
internal sealed class VictimSelector
{
    private readonly ClusterState _cluster;
    private readonly ReservationBook _book;
    private readonly GangSelector _gangs = new();
    /// <summary>The node's eligible tenants with their order keys, read once per tenant.</summary>
    private readonly List<Candidate> _eligible = [];
    private readonly List<NodeOption> _options = [];
    private readonly List<int> _order = [];
    private readonly List<int> _chosen = [];
    private readonly Func<int, int> _blockOf;
    /// <summary>Every option's victims, each option holding a range of it (one list: no allocation per node).</summary>
    private readonly List<Job> _taken = [];

    private readonly bool _leastWorkLost;

    public VictimSelector(ClusterState cluster, ReservationBook book, ReclaimVictimOrder order = ReclaimVictimOrder.FairShare)
    {
        _leastWorkLost = order == ReclaimVictimOrder.LeastWorkLost;
        _cluster = cluster;
        _book = book;
        _blockOf = cluster.BlockOf;
    }

    /// <summary>For tests: try every node, never stopping early (the bounded search must choose the same).</summary>
    internal bool Exhaustive { get; set; }

    /// <summary>Victims of the last successful call (distinct jobs).</summary>
    public List<Job> Victims { get; } = [];

    /// <summary>Nodes the job will start on once the victims are gone.</summary>
    public List<int> Nodes { get; } = [];

    /// <summary>Nodes the last call found able to take the job's share (some only with victims): after a failure,
    /// fewer than the job needs.</summary>
    public int NodesFound => _options.Count;

    /// <summary>When the last of the victims (and jobs already stopping there) will have freed its GPUs.</summary>
    public long ReadyTicks { get; private set; }

    /// <param name="eligible">Which running jobs may be displaced for this job (read from their slots).</param>
    /// <param name="preference">Per project: higher is taken first (for example how far over its fair share it is).</param>
    /// <param name="candidates">Nodes to consider (ascending); null for every node of the type — a guarantee reclaim,
    /// whose victims are borrowers (the bound of <see cref="TryNodesByLeastWork"/> counts on that).</param>
    /// <param name="ignoreClaims">Also search nodes that carry claims: a search that fails so fails whatever
    /// the claims, which lets the failure be carried into later decisions.</param>
    public bool Find(in PlacementRequest r, long now, Func<TenantSlot, bool> eligible, Func<int, double> preference, IReadOnlyList<int>? candidates = null, bool ignoreClaims = false)
    {
        Victims.Clear();
        Nodes.Clear();
        _options.Clear();
        _taken.Clear();
        var nodes = candidates ?? _cluster.NodesOfType(r.Type);
        if (candidates is null && r.Nodes == 1 && _leastWorkLost && !Exhaustive) TryNodesByLeastWork(r, now, eligible, preference, nodes, ignoreClaims);
        else
        {
            for (var i = 0; i < nodes.Count; i++)
            {
                var node = nodes[i];
                if (Searchable(node, r, ignoreClaims) && TryNode(node, r, now, eligible, preference, out var option)) _options.Add(option);
            }
        }
        if (_options.Count < r.Nodes) return false;

        if (r.Nodes == 1)
        {
            // One node: the best option, without ordering them all.
            var best = 0;
            for (var i = 1; i < _options.Count; i++)
                if (Better(_options[i], _options[best]) < 0) best = i;
            _chosen.Add(_options[best].Node);
        }
        else
        {
            _options.Sort(Better);
            _order.Clear();
            foreach (var o in _options) _order.Add(o.Node);
            _gangs.Choose(_order, _blockOf, _cluster.BlockCount, r.Nodes, _chosen);
        }

        ReadyTicks = now;
        foreach (var node in _chosen)
        {
            var option = _options[IndexOfOption(node)];
            Nodes.Add(node);
            ReadyTicks = Math.Max(ReadyTicks, option.ReadyTicks);
            for (var i = option.VictimsStart; i < option.VictimsStart + option.Cost; i++)
                if (!Victims.Contains(_taken[i])) Victims.Add(_taken[i]);
        }
        _chosen.Clear();
        return true;
    }

    private bool Searchable(int node, in PlacementRequest r, bool ignoreClaims) =>
        _cluster.StateOf(node) == NodeState.Up && _cluster.GpusOf(node) >= r.GpusPerNode && _cluster.CpuOf(node) >= r.Cpu
        && _cluster.MemoryOf(node) >= r.Memory && (ignoreClaims || !_book.HasClaims(node));

    /// <summary>One node, least work lost first: a node where the job needs a victim loses at least its cheapest
    /// borrower's work — (now − the latest borrower start) × the fewest GPUs of a borrower there — and one with
    /// GPUs free or stopping may lose nothing. Nodes are tried in order of that bound, and the search stops at
    /// the first whose bound exceeds the least work an option found loses: every node not tried would lose
    /// more, so the best option is the one a search of every node finds (a reclaim reads a few nodes, not all).</summary>
    private void TryNodesByLeastWork(in PlacementRequest r, long now, Func<TenantSlot, bool> eligible, Func<int, double> preference, IReadOnlyList<int> nodes, bool ignoreClaims)
    {
        _bounds.Clear();
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (!Searchable(node, r, ignoreClaims)) continue;
            long bound;
            if (_cluster.StoppingTenants(node) > 0 || _cluster.FreeGpus(node) >= r.GpusPerNode) bound = 0;
            else if (_cluster.BorrowerLatestStart(node) == long.MinValue) continue; // nothing there to take
            else bound = (now - _cluster.BorrowerLatestStart(node)) / TimeSpan.TicksPerSecond * _cluster.BorrowerFewestGpus(node);
            _bounds.Add(new NodeBound(bound, node));
        }
        _bounds.Sort();
        var best = -1;
        foreach (var (bound, node) in _bounds)
        {
            if (best >= 0 && bound > _options[best].LostWork) break;
            if (!TryNode(node, r, now, eligible, preference, out var option)) continue;
            _options.Add(option);
            if (best < 0 || Better(option, _options[best]) < 0) best = _options.Count - 1;
        }
    }

    private readonly List<NodeBound> _bounds = [];

    /// <summary>The least work a node's option could lose, with the node: ordered by bound, then node.</summary>
    private readonly record struct NodeBound(long Bound, int Node) : IComparable<NodeBound>
    {
        public int CompareTo(NodeBound other)
        {
            var c = Bound.CompareTo(other.Bound);
            return c != 0 ? c : Node.CompareTo(other.Node);
        }
    }

    private int IndexOfOption(int node)
    {
        for (var i = 0; i < _options.Count; i++)
            if (_options[i].Node == node) return i;
        throw new InvalidOperationException($"node {node} was chosen without an option");
    }

    /// <summary><see cref="ReclaimVictimOrder.FairShare"/> (DESIGN.md): fewest victims; among equal sets, victims from
    /// accounts furthest over their fair share; then least work lost. <see cref="ReclaimVictimOrder.LeastWorkLost"/>:
    /// least work lost first, then fewest victims, then fair share. Node index last, for determinism.</summary>
    private int Better(NodeOption a, NodeOption b) =>
        _leastWorkLost && a.LostWork != b.LostWork ? a.LostWork.CompareTo(b.LostWork)
        : a.Cost != b.Cost ? a.Cost.CompareTo(b.Cost)
        : a.Preference != b.Preference ? b.Preference.CompareTo(a.Preference)
        : a.LostWork != b.LostWork ? a.LostWork.CompareTo(b.LostWork)
        : a.Node.CompareTo(b.Node);

    private bool TryNode(int node, in PlacementRequest r, long now, Func<TenantSlot, bool> eligible, Func<int, double> preference, out NodeOption option)
    {
        option = default;
        var gpus = _cluster.FreeGpus(node);
        var cpu = _cluster.FreeCpu(node);
        var memory = _cluster.FreeMemory(node);
        var ready = now;
        var potential = 0;
        _eligible.Clear();
        foreach (var t in _cluster.Tenants(node))
        {
            if (t.Terminating)
            {
                gpus += t.Gpus;
                cpu += t.Cpu;
                memory += t.Memory;
                ready = Math.Max(ready, t.Job.KillTicks);
            }
            else if (eligible(t))
            {
                _eligible.Add(new Candidate(t, 0, 0));
                potential += t.Gpus;
            }
        }
        if (gpus >= r.GpusPerNode && cpu >= r.Cpu && memory >= r.Memory)
        {
            // Enough is already on its way out (an earlier reclaim for this same job).
            option = new NodeOption(node, 0, double.PositiveInfinity, 0, ready, _taken.Count);
            return true;
        }
        if (gpus + potential < r.GpusPerNode) return false;

        // Victims in preference order, until the job fits: each next one is the first of the rest (a node has
        // few tenants, and most jobs need one or two victims, so this beats sorting them all).
        for (var i = 0; i < _eligible.Count; i++)
        {
            var slot = _eligible[i].Slot;
            _eligible[i] = new Candidate(slot, preference(slot.Project), (now - slot.StartTicks) * slot.TotalGpus);
        }
        var start = _taken.Count;
        long lost = 0;
        var least = double.PositiveInfinity;
        var left = _eligible.Count;
        while (left > 0 && !(gpus >= r.GpusPerNode && cpu >= r.Cpu && memory >= r.Memory))
        {
            var first = 0;
            for (var i = 1; i < left; i++)
                if (VictimOrder(_eligible[i], _eligible[first]) < 0) first = i;
            var c = _eligible[first];
            _eligible[first] = _eligible[--left];
            var t = c.Slot;
            _taken.Add(t.Job);
            least = Math.Min(least, c.Preference);
            gpus += t.Gpus;
            cpu += t.Cpu;
            memory += t.Memory;
            lost += (now - t.StartTicks) / TimeSpan.TicksPerSecond * t.TotalGpus;
            ready = Math.Max(ready, now + t.GraceTicks);
        }
        if (gpus < r.GpusPerNode || cpu < r.Cpu || memory < r.Memory)
        {
            _taken.RemoveRange(start, _taken.Count - start);
            return false;
        }
        option = new NodeOption(node, _taken.Count - start, least, lost, ready, start);
        return true;
    }

    /// <summary>Fair share: furthest over first, then most recently started. Least work lost: GPU-time run first.
    /// Job id last: a total order, so the victims taken do not depend on the tenants' order.</summary>
    private int VictimOrder(in Candidate a, in Candidate b)
    {
        var c = _leastWorkLost ? a.Work.CompareTo(b.Work) : b.Preference.CompareTo(a.Preference);
        if (c != 0) return c;
        c = _leastWorkLost ? b.Preference.CompareTo(a.Preference) : b.Slot.StartTicks.CompareTo(a.Slot.StartTicks);
        return c != 0 ? c : b.Slot.Job.Id.CompareTo(a.Slot.Job.Id);
    }

    /// <summary>An eligible tenant with its preference and the GPU-time it has run (ticks × GPUs).</summary>
    private readonly record struct Candidate(TenantSlot Slot, double Preference, long Work);

    /// <param name="Preference">The lowest preference among the node's victims: a node whose victims are all
    /// further over their fair share is taken first.</param>
    /// <param name="Cost">How many victims: <c>_taken[VictimsStart ..]</c>.</param>
    private readonly record struct NodeOption(int Node, int Cost, double Preference, long LostWork, long ReadyTicks, int VictimsStart);
}
