using Mekong.Policy.Cluster;

namespace Mekong.Policy.Placement;

/// <summary>For each shape a reservation has asked for (GPU type, GPUs, CPU, memory per node): every node that
/// can ever take it, in the order the end-time walk of <see cref="Placer.EarliestStart"/> finds them ready —
/// first those with room now (fullest first, then node index), then by the running job whose end gives the
/// node enough room (its end, its id, the node's place in it). Kept current as jobs start, stop or are told to
/// stop, and as nodes change, so that a reservation reads the next ready nodes instead of walking every job.</summary>
/// <remarks>The order does not depend on the time: a job's end only decides when, not whether, its node is
/// ready, and jobs past their end are walked at "now" in this same order.</remarks>
internal sealed class ReadyOrder
{
    private readonly ClusterState _cluster;
    private readonly Dictionary<(int Type, int Gpus, int Cpu, long Memory), Shape> _shapes = [];
    private readonly List<Shape>?[] _byType = new List<Shape>?[GpuTypeTable.MaxTypes];
    private TenantSlot[] _tenants = new TenantSlot[8];

    public ReadyOrder(ClusterState cluster) => _cluster = cluster;

    /// <summary>When the walk finds the node ready: <see cref="long.MinValue"/> for room now, else the end of the
    /// job that gives it room; ties go by <see cref="Tie"/> (free GPUs now, or that job's id) then <see cref="Place"/>.</summary>
    internal readonly record struct Key(long End, long Tie, int Place, int Node) : IComparable<Key>
    {
        public int CompareTo(Key other)
        {
            var c = End.CompareTo(other.End);
            if (c != 0) return c;
            c = Tie.CompareTo(other.Tie);
            if (c != 0) return c;
            c = Place.CompareTo(other.Place);
            return c != 0 ? c : Node.CompareTo(other.Node);
        }

        /// <summary>The instant the walk reaches the node.</summary>
        public long Time(long now) => End > now ? End : now;
    }

    private sealed class Shape(int type, int gpus, int cpu, long memory)
    {
        public readonly int Type = type;
        public readonly int Gpus = gpus;
        public readonly int Cpu = cpu;
        public readonly long Memory = memory;
        public readonly SortedSet<Key> Order = [];
        /// <summary>Per node, its key in <see cref="Order"/>; Node is -1 when it is not there.</summary>
        public Key[] KeyOf = [];
    }

    /// <summary>The nodes for the request's shape in ready order (built on first use).</summary>
    public SortedSet<Key> For(in PlacementRequest r)
    {
        var id = (r.Type, r.GpusPerNode, r.Cpu, r.Memory);
        if (!_shapes.TryGetValue(id, out var shape))
        {
            shape = new Shape(r.Type, r.GpusPerNode, r.Cpu, r.Memory);
            _shapes.Add(id, shape);
            (_byType[r.Type] ??= []).Add(shape);
            foreach (var node in _cluster.NodesOfType(r.Type)) Update(shape, node);
        }
        return shape.Order;
    }

    /// <summary>Bumped by every <see cref="NodeChanged"/>: what a node holds, or when it comes back, changed.</summary>
    public long Version { get; private set; }

    /// <summary>Something on the node changed: its jobs, one's end, its state or its shape.</summary>
    public void NodeChanged(int node)
    {
        Version++;
        foreach (var list in _byType)
        {
            if (list is null) continue;
            foreach (var shape in list) Update(shape, node);
        }
    }

    private void Update(Shape shape, int node)
    {
        if (shape.KeyOf.Length <= node)
        {
            var grown = new Key[Math.Max(node + 1, Math.Max(64, shape.KeyOf.Length * 2))];
            Array.Fill(grown, new Key(0, 0, 0, -1));
            shape.KeyOf.CopyTo(grown, 0);
            shape.KeyOf = grown;
        }
        var old = shape.KeyOf[node];
        var found = TryKey(shape, node, out var key);
        if (found && old.Node >= 0 && old == key) return;
        if (old.Node >= 0) shape.Order.Remove(old);
        shape.KeyOf[node] = found ? key : new Key(0, 0, 0, -1);
        if (found) shape.Order.Add(key);
    }

    /// <summary>The node's key for the shape; false when the node can never take it (wrong type, not up, too small).</summary>
    private bool TryKey(Shape s, int n, out Key key)
    {
        key = default;
        var c = _cluster;
        if (c.TypeOf(n) != s.Type || c.StateOf(n) != NodeState.Up || c.GpusOf(n) < s.Gpus || c.CpuOf(n) < s.Cpu || c.MemoryOf(n) < s.Memory)
            return false;
        int gpus = c.FreeGpus(n), cpu = c.FreeCpu(n);
        var memory = c.FreeMemory(n);
        if (gpus >= s.Gpus && cpu >= s.Cpu && memory >= s.Memory)
        {
            key = new Key(long.MinValue, gpus, 0, n);
            return true;
        }
        // The walk returns jobs in end order (then id): the node is ready at the first whose end gives it room.
        var tenants = c.Tenants(n);
        if (_tenants.Length < tenants.Count) _tenants = new TenantSlot[tenants.Count * 2];
        var span = _tenants.AsSpan(0, tenants.Count);
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tenants).CopyTo(span);
        span.Sort(static (a, b) =>
        {
            var e = a.Job.EndTicks.CompareTo(b.Job.EndTicks);
            return e != 0 ? e : a.Job.Id.CompareTo(b.Job.Id);
        });
        foreach (var t in span)
        {
            gpus += t.Gpus;
            cpu += t.Cpu;
            memory += t.Memory;
            if (gpus < s.Gpus || cpu < s.Cpu || memory < s.Memory) continue;
            key = new Key(t.Job.EndTicks, t.Job.Id.Value, Array.IndexOf(t.Job.Nodes, n), n);
            return true;
        }
        return false;
    }
}
