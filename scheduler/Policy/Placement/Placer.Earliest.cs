using Mekong.Policy.Backfill;
using Mekong.Policy.Cluster;

namespace Mekong.Policy.Placement;

internal sealed partial class Placer
{
    private readonly List<int> _readyNodes = [];

    // Claimed nodes of the walk's type. Each carries "fitted at its last check" and "changed since": a job
    // on it ended, or one of its claims ended. Between such changes a claimed node can only stop fitting as
    // t grows (its window reaches more claims), never start — so nodes are re-checked only when changed,
    // and the cached fits are confirmed only when they would be enough.
    private readonly List<int> _claimedOfType = [];
    private readonly List<int> _claimedChanged = [];
    private readonly List<(long End, int Node)> _claimEnds = [];
    private readonly TenantEnds?[] _tenantEnds = new TenantEnds?[GpuTypeTable.MaxTypes];
    private bool[] _inWalk = [];
    private bool[] _claimFits = [];
    private bool[] _claimChanged = [];
    private int _claimFitCount;

    /// <summary>The earliest start for the request given running jobs' expected ends and existing claims;
    /// fills <see cref="Chosen"/>. Returns long.MaxValue when no up nodes can ever take it.</summary>
    /// <remarks>Walks time forward until enough nodes can hold the job. Nodes without claims come ready in
    /// the order <see cref="ReadyOrder"/> keeps for the shape (a node that fits at T fits at every later T:
    /// capacity only returns), so the walk reads only as many as it needs, not every running job. Nodes with
    /// claims are checked exactly whenever one of their jobs or claims ends. Instants where nothing changed
    /// cannot succeed where the previous one failed, so only these are visited. The walk stops at the first
    /// instant that works, so its length is "how far ahead the job starts", not the size of the cluster.</remarks>
    public long EarliestStart(in PlacementRequest r, long now)
    {
        Chosen.Clear();
        PrepareWalk();
        _readyNodes.Clear();
        foreach (var n in _claimedOfType) _inWalk[n] = false;
        _claimedOfType.Clear();
        _claimedChanged.Clear();
        _claimEnds.Clear();
        _claimFitCount = 0;
        var claimed = _book.ClaimedNodes;
        for (var i = 0; i < claimed.Count; i++)
        {
            var n = claimed[i];
            if (_cluster.TypeOf(n) != r.Type || !Eligible(n, r)) continue;
            _claimedOfType.Add(n);
            _inWalk[n] = true;
            _claimFits[n] = false;
            _claimChanged[n] = true;
            _claimedChanged.Add(n);
            _book.AddClaimEnds(n, _claimEnds);
        }
        _claimEnds.Sort();
        var tenantEnds = (_tenantEnds[r.Type] ??= new TenantEnds()).Of(r.Type, _book, _cluster, _readyOrder.Version);

        var t = now;
        var claimIndex = 0;
        var tenantIndex = 0;
        using var ready = _readyOrder.For(r).GetEnumerator();
        var more = ready.MoveNext();
        while (true)
        {
            // Everything that comes ready, or changes on a claimed node, by t (jobs past their end: at now).
            for (; more && ready.Current.Time(now) <= t; more = ready.MoveNext())
                if (!_book.HasClaims(ready.Current.Node)) _readyNodes.Add(ready.Current.Node);
            for (; tenantIndex < tenantEnds.Count && Math.Max(now, tenantEnds[tenantIndex].End) <= t; tenantIndex++)
                if (_inWalk[tenantEnds[tenantIndex].Node]) MarkChanged(tenantEnds[tenantIndex].Node);
            // Ends on claimed nodes this job cannot use change nothing for it.
            while (tenantIndex < tenantEnds.Count && !_inWalk[tenantEnds[tenantIndex].Node]) tenantIndex++;
            while (claimIndex < _claimEnds.Count && _claimEnds[claimIndex].End <= t) MarkChanged(_claimEnds[claimIndex++].Node);

            if (TryChooseAt(r, now, t)) return t;

            var next = long.MaxValue;
            if (more) next = ready.Current.Time(now);
            if (tenantIndex < tenantEnds.Count) next = Math.Min(next, Math.Max(now, tenantEnds[tenantIndex].End));
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
        _candidates.Sort(_bestFit);
        return _gangs.Choose(_candidates, _blockOf, _cluster.BlockCount, r.Nodes, Chosen);
    }

    private void MarkChanged(int n)
    {
        if (_claimChanged[n]) return;
        _claimChanged[n] = true;
        _claimedChanged.Add(n);
        if (_claimFits[n]) { _claimFits[n] = false; _claimFitCount--; }
    }

    private bool Eligible(int n, in PlacementRequest r) =>
        _cluster.StateOf(n) == NodeState.Up && _cluster.GpusOf(n) >= r.GpusPerNode
        && _cluster.CpuOf(n) >= r.Cpu && _cluster.MemoryOf(n) >= r.Memory;

    private void PrepareWalk()
    {
        if (_claimFits.Length >= _cluster.Count) return;
        var size = Math.Max(_cluster.Count, _claimFits.Length * 2);
        _claimFits = new bool[size];
        _claimChanged = new bool[size];
        _inWalk = new bool[size];
        _claimedOfType.Clear();
    }
}

/// <summary>The expected ends of the jobs on one type's claimed nodes, in time order (then job, then node), as the
/// earliest-start walk reads them. Within one decision the reservation book only gains claimed nodes, so the list is
/// kept and the new nodes' ends are merged in — until a job starts, stops or is told to stop (a new
/// <see cref="ReadyOrder.Version"/>) or the book is reset, when it is built again.</summary>
internal sealed class TenantEnds
{
    private List<(long End, long Job, int Node)> _ends = [];
    private readonly List<(long End, long Job, int Node)> _added = [];
    private List<(long End, long Job, int Node)> _merged = [];
    private int _book = -1;
    private long _tenancy = -1;
    private int _nodesRead;

    public List<(long End, long Job, int Node)> Of(int type, ReservationBook book, ClusterState cluster, long tenancy)
    {
        if (_book != book.Version || _tenancy != tenancy)
        {
            _ends.Clear();
            _nodesRead = 0;
            _book = book.Version;
            _tenancy = tenancy;
        }
        var claimed = book.ClaimedNodes;
        if (_nodesRead == claimed.Count) return _ends;
        _added.Clear();
        for (var i = _nodesRead; i < claimed.Count; i++)
        {
            var n = claimed[i];
            if (cluster.TypeOf(n) != type) continue;
            foreach (var tenant in cluster.Tenants(n)) _added.Add((tenant.Job.EndTicks, tenant.Job.Id.Value, n));
        }
        _nodesRead = claimed.Count;
        if (_added.Count == 0) return _ends;
        _added.Sort();
        _merged.Clear();
        int a = 0, b = 0;
        while (a < _ends.Count || b < _added.Count)
            _merged.Add(b == _added.Count || (a < _ends.Count && _ends[a].CompareTo(_added[b]) <= 0) ? _ends[a++] : _added[b++]);
        (_ends, _merged) = (_merged, _ends);
        return _ends;
    }
}
