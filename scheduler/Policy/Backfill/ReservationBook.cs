using Mekong.Policy.Cluster;

namespace Mekong.Policy.Backfill;

/// <summary>The reservation map of one decision: per node, the claims of blocked higher-ranked jobs.
/// It answers one question for placement now, for later reservations and for backfill alike — may a job
/// hold (g GPUs, cpu, memory) on node n over [start, end) without leaving any claim short?</summary>
/// <remarks>Free capacity on a node only grows over time as running jobs end (at their walltime, or kill
/// time if stopping), and claims only take it away while active. So the minimum over [start, end) of
/// "free − claimed" is reached at start or at a claim's start inside the window: those few instants are
/// all that need checking. This is what makes invariant 5 (backfill never delays a reservation) hold.</remarks>
internal sealed class ReservationBook
{
    private readonly List<Claim> _claims = [];
    private readonly List<Reservation> _reservations = [];
    private readonly List<int> _claimedNodes = [];
    private int[] _head = [];
    private int[] _stamp = [];
    private int _version;

    public IReadOnlyList<Reservation> Reservations => _reservations;

    /// <summary>A job whose own claims do not count against it (while it is being placed); default: none.</summary>
    public JobId Ignoring { get; set; }

    /// <summary>Nodes that carry at least one claim in this decision.</summary>
    public IReadOnlyList<int> ClaimedNodes => _claimedNodes;

    /// <summary>Reservations that count against the cap (the top blocked jobs), not the waits for victims.</summary>
    public int Counted { get; private set; }

    public void Reset(int nodes)
    {
        if (_head.Length < nodes)
        {
            _head = new int[Math.Max(nodes, _head.Length * 2)];
            _stamp = new int[_head.Length];
        }
        _version++;
        _claims.Clear();
        _reservations.Clear();
        _claimedNodes.Clear();
        Counted = 0;
    }

    public bool HasClaims(int node) => _stamp[node] == _version;

    /// <summary>Bumped by every <see cref="Reset"/>: within one version claims and claimed nodes are only added.</summary>
    public int Version => _version;

    private int Head(int node) => _stamp[node] == _version ? _head[node] : -1;

    public void Add(Reservation reservation, ReadOnlySpan<int> nodes, long start, long end, int gpus, int cpu, long memory, bool counted)
    {
        foreach (var node in nodes)
        {
            if (!HasClaims(node)) _claimedNodes.Add(node);
            _claims.Add(new Claim { Start = start, End = end, Gpus = gpus, Cpu = cpu, Memory = memory, Job = reservation.Job, Next = Head(node) });
            _head[node] = _claims.Count - 1;
            _stamp[node] = _version;
        }
        _reservations.Add(reservation);
        if (counted) Counted++;
    }

    /// <summary>Whether (gpus, cpu, memory) fits on the node over [start, end) beside running jobs and claims.</summary>
    public bool Fits(ClusterState cluster, int node, long now, long start, long end, int gpus, int cpu, long memory)
    {
        if (!Available(cluster, node, now, start, gpus, cpu, memory)) return false;
        for (var c = Head(node); c >= 0; c = _claims[c].Next)
        {
            var s = _claims[c].Start;
            if (_claims[c].Job == Ignoring && Ignoring != default) continue;
            if (s > start && s < end && !Available(cluster, node, now, s, gpus, cpu, memory)) return false;
        }
        return true;
    }

    /// <summary>The longest walltime a job starting now could have on the node and still leave every claim
    /// whole: up to the first claim start at which it would not fit; -1 if it does not fit now.</summary>
    public long LongestFit(ClusterState cluster, int node, long now, int gpus, int cpu, long memory)
    {
        if (!Available(cluster, node, now, now, gpus, cpu, memory)) return -1;
        var longest = long.MaxValue;
        for (var c = Head(node); c >= 0; c = _claims[c].Next)
        {
            var s = _claims[c].Start;
            if (s > now && s - now < longest && !Available(cluster, node, now, s, gpus, cpu, memory)) longest = s - now;
        }
        return longest;
    }

    /// <summary>Free minus claimed at instant <paramref name="t"/> is at least what is asked.</summary>
    private bool Available(ClusterState cluster, int node, long now, long t, int gpus, int cpu, long memory)
    {
        var g = cluster.FreeGpus(node);
        var c = cluster.FreeCpu(node);
        var m = cluster.FreeMemory(node);
        if (t > now)
        {
            foreach (var tenant in cluster.Tenants(node))
            {
                if (tenant.Job.ExpectedEndTicks(now) > t) continue;
                g += tenant.Gpus;
                c += tenant.Cpu;
                m += tenant.Memory;
            }
        }
        for (var i = Head(node); i >= 0; i = _claims[i].Next)
        {
            ref readonly var claim = ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_claims)[i];
            if (claim.Start > t || claim.End <= t || (claim.Job == Ignoring && Ignoring != default)) continue;
            g -= claim.Gpus;
            c -= claim.Cpu;
            m -= claim.Memory;
        }
        return g >= gpus && c >= cpu && m >= memory;
    }

    /// <summary>Drops a job's uncounted reservation and its claims on the nodes (it has started there: its
    /// GPUs are now taken for real).</summary>
    public void Release(JobId job, ReadOnlySpan<int> nodes)
    {
        _reservations.RemoveAll(r => r.Job == job);
        var claims = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_claims);
        foreach (var node in nodes)
        {
            for (var c = Head(node); c >= 0; c = claims[c].Next)
            {
                if (claims[c].Job != job) continue;
                claims[c].Gpus = 0;
                claims[c].Cpu = 0;
                claims[c].Memory = 0;
            }
        }
    }

    /// <summary>Adds the end of every claim on the node to <paramref name="into"/>.</summary>
    public void AddClaimEnds(int node, List<(long End, int Node)> into)
    {
        for (var c = Head(node); c >= 0; c = _claims[c].Next) into.Add((_claims[c].End, node));
    }
}
