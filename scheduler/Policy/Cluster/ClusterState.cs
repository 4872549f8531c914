using System.Numerics;
using System.Runtime.InteropServices;

namespace Mekong.Policy.Cluster;

/// <summary>Nodes in dense arrays, with a free-GPU index per type: for each type and each free count k,
/// a bit set of the up nodes that have exactly k GPUs free. Best fit is then "lowest k ≥ g with a set bit".</summary>
internal sealed partial class ClusterState
{
    private readonly GpuTypeTable _types;
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _blockByName = new(StringComparer.Ordinal);
    private readonly List<string> _blockNames = [];

    private int _capacity;
    private string[] _name = [];
    private int[] _type = [];
    private int[] _gpus = [];
    private int[] _cpu = [];
    private long[] _memory = [];
    private int[] _block = [];
    private NodeState[] _state = [];
    private ulong[] _freeMask = [];
    private int[] _freeCpu = [];
    private long[] _freeMemory = [];
    private List<TenantSlot>[] _tenants = [];

    // Per node, over its running borrowers: the latest start and the fewest GPUs (of the whole job); and how
    // many of its tenants are stopping. A reclaim bounds from these the least work it could lose on the node.
    private long[] _borrowerLatestStart = [];
    private int[] _borrowerFewestGpus = [];
    private int[] _stoppingTenants = [];

    // _freeIndex[type][k] is a bit set over node indexes; _freeCount[type][k] its population.
    private readonly ulong[][][] _freeIndex = new ulong[GpuTypeTable.MaxTypes][][];
    private readonly int[][] _freeCount = new int[GpuTypeTable.MaxTypes][];
    private readonly List<int>[] _nodesOfType = new List<int>[GpuTypeTable.MaxTypes];
    private readonly int[] _maxGpusOfType = new int[GpuTypeTable.MaxTypes];
    private readonly int[] _upGpusOfType = new int[GpuTypeTable.MaxTypes];

    public ClusterState(GpuTypeTable types) => _types = types;

    public int Count { get; private set; }
    public int BlockCount => _blockNames.Count;

    public string NameOf(int node) => _name[node];
    public int TypeOf(int node) => _type[node];
    public int GpusOf(int node) => _gpus[node];
    public int CpuOf(int node) => _cpu[node];
    public long MemoryOf(int node) => _memory[node];
    public int BlockOf(int node) => _block[node];
    public string BlockName(int block) => _blockNames[block];
    public NodeState StateOf(int node) => _state[node];
    public ulong FreeMask(int node) => _freeMask[node];
    public int FreeGpus(int node) => BitOperations.PopCount(_freeMask[node]);
    public int FreeCpu(int node) => _freeCpu[node];
    public long FreeMemory(int node) => _freeMemory[node];
    public List<TenantSlot> Tenants(int node) => _tenants[node];

    /// <summary>The latest start of a running borrower on the node (long.MinValue: none borrows there).</summary>
    public long BorrowerLatestStart(int node) => _borrowerLatestStart[node];

    /// <summary>The fewest GPUs of a running borrower on the node, counting all of its job's GPUs.</summary>
    public int BorrowerFewestGpus(int node) => _borrowerFewestGpus[node];

    /// <summary>How many of the node's tenants are stopping.</summary>
    public int StoppingTenants(int node) => _stoppingTenants[node];
    public IReadOnlyList<int> NodesOfType(int type) => _nodesOfType[type] ?? (IReadOnlyList<int>)[];
    public int MaxGpusOfType(int type) => _maxGpusOfType[type];

    /// <summary>GPUs of the type on nodes that are up.</summary>
    public int UpGpusOfType(int type) => _upGpusOfType[type];

    public bool TryGet(string name, out int node) => _byName.TryGetValue(name, out node);

    /// <summary>Bumped whenever a node is added, changes shape or changes state: what is counted over the nodes'
    /// shapes and states alone stays valid while it is unchanged.</summary>
    public long ShapeVersion { get; private set; }

    /// <summary>Adds a node, or updates a known one's shape (only while nothing runs on it) and brings it up.</summary>
    public int AddOrUpdate(NodeSpec spec)
    {
        spec.Validate();
        ShapeVersion++;
        var type = _types.GetOrAdd(spec.GpuType);
        if (_byName.TryGetValue(spec.Name, out var node))
        {
            var sameShape = _type[node] == type && _gpus[node] == spec.Gpus && _cpu[node] == spec.CpuCores && _memory[node] == spec.MemoryMb;
            if (!sameShape && _tenants[node].Count > 0)
                throw new PolicyException($"node {spec.Name}: its shape changed while jobs run on it");
            Unindex(node);
            if (_state[node] == NodeState.Up) _upGpusOfType[_type[node]] -= _gpus[node];
            _nodesOfType[_type[node]].Remove(node);
        }
        else
        {
            node = Count++;
            Grow(Count);
            _name[node] = spec.Name;
            _byName.Add(spec.Name, node);
            _tenants[node] = [];
            Summarize(node);
            _state[node] = NodeState.Down;
        }

        _type[node] = type;
        _gpus[node] = spec.Gpus;
        _cpu[node] = spec.CpuCores;
        _memory[node] = spec.MemoryMb;
        _block[node] = BlockIndex(spec.Block ?? "");
        if (_tenants[node].Count == 0)
        {
            _freeMask[node] = spec.Gpus == 64 ? ulong.MaxValue : (1UL << spec.Gpus) - 1;
            _freeCpu[node] = spec.CpuCores;
            _freeMemory[node] = spec.MemoryMb;
        }
        (_nodesOfType[type] ??= []).Add(node);
        _nodesOfType[type].Sort();
        if (spec.Gpus > _maxGpusOfType[type]) EnsureTypeIndex(type, spec.Gpus);
        EnsureTypeIndex(type, _maxGpusOfType[type]);
        _state[node] = NodeState.Up;
        _upGpusOfType[type] += spec.Gpus;
        Index(node);
        return node;
    }

    public void SetState(int node, NodeState state)
    {
        if (_state[node] == state) return;
        ShapeVersion++;
        if (_state[node] == NodeState.Up)
        {
            Unindex(node);
            _upGpusOfType[_type[node]] -= _gpus[node];
        }
        _state[node] = state;
        if (state == NodeState.Up)
        {
            _upGpusOfType[_type[node]] += _gpus[node];
            Index(node);
        }
    }

    public void Allocate(int node, Jobs.Job job, ulong mask, int cpu, long memory)
    {
        Unindex(node);
        _freeMask[node] &= ~mask;
        _freeCpu[node] -= cpu;
        _freeMemory[node] -= memory;
        _tenants[node].Add(new TenantSlot
        {
            Job = job, Mask = mask, Gpus = BitOperations.PopCount(mask), Cpu = cpu, Memory = memory,
            Project = job.Project, TotalGpus = job.TotalGpus, StartTicks = job.StartTicks, GraceTicks = job.Spec.GracePeriod.Ticks, Low = job.Spec.Priority == JobPriority.Low,
            Borrowing = job.Borrowing, Terminating = job.Status == JobStatus.Terminating,
        });
        Summarize(node);
        Index(node);
    }

    /// <summary>The running job now borrows, or not, or is stopping: its slots say so too.</summary>
    public void TenantChanged(Jobs.Job job)
    {
        foreach (var node in job.Nodes)
        {
            foreach (ref var t in CollectionsMarshal.AsSpan(_tenants[node]))
            {
                if (!ReferenceEquals(t.Job, job)) continue;
                t.Borrowing = job.Borrowing;
                t.Terminating = job.Status == JobStatus.Terminating;
            }
            Summarize(node);
        }
    }

    private void Summarize(int node)
    {
        long latest = long.MinValue;
        int fewest = int.MaxValue, stopping = 0;
        foreach (var t in _tenants[node])
        {
            if (t.Terminating) stopping++;
            else if (t.Borrowing)
            {
                latest = Math.Max(latest, t.StartTicks);
                fewest = Math.Min(fewest, t.TotalGpus);
            }
        }
        _borrowerLatestStart[node] = latest;
        _borrowerFewestGpus[node] = fewest;
        _stoppingTenants[node] = stopping;
    }

    public void Release(int node, Jobs.Job job)
    {
        var tenants = _tenants[node];
        for (var i = 0; i < tenants.Count; i++)
        {
            if (!ReferenceEquals(tenants[i].Job, job)) continue;
            Unindex(node);
            _freeMask[node] |= tenants[i].Mask;
            _freeCpu[node] += tenants[i].Cpu;
            _freeMemory[node] += tenants[i].Memory;
            tenants.RemoveAt(i);
            Summarize(node);
            Index(node);
            return;
        }
    }

    /// <summary>The lowest <paramref name="count"/> free GPU indexes of a node, as a mask.</summary>
    public ulong TakeGpus(int node, int count)
    {
        var free = _freeMask[node];
        ulong mask = 0;
        for (var i = 0; i < count; i++)
        {
            var bit = free & (~free + 1);
            mask |= bit;
            free &= free - 1;
        }
        return mask;
    }

    private int BlockIndex(string block)
    {
        if (_blockByName.TryGetValue(block, out var index)) return index;
        index = _blockNames.Count;
        _blockNames.Add(block);
        _blockByName.Add(block, index);
        return index;
    }

    private void Grow(int needed)
    {
        if (needed <= _capacity) return;
        var capacity = Math.Max(64, Math.Max(needed, _capacity * 2));
        Array.Resize(ref _name, capacity);
        Array.Resize(ref _type, capacity);
        Array.Resize(ref _gpus, capacity);
        Array.Resize(ref _cpu, capacity);
        Array.Resize(ref _memory, capacity);
        Array.Resize(ref _block, capacity);
        Array.Resize(ref _state, capacity);
        Array.Resize(ref _freeMask, capacity);
        Array.Resize(ref _freeCpu, capacity);
        Array.Resize(ref _freeMemory, capacity);
        Array.Resize(ref _tenants, capacity);
        Array.Resize(ref _borrowerLatestStart, capacity);
        Array.Resize(ref _borrowerFewestGpus, capacity);
        Array.Resize(ref _stoppingTenants, capacity);
        var words = capacity / 64;
        for (var t = 0; t < GpuTypeTable.MaxTypes; t++)
        {
            if (_freeIndex[t] is null) continue;
            for (var k = 0; k < _freeIndex[t].Length; k++) Array.Resize(ref _freeIndex[t][k], words);
        }
        _capacity = capacity;
    }

    private void EnsureTypeIndex(int type, int maxGpus)
    {
        var words = Math.Max(1, _capacity / 64);
        var index = _freeIndex[type];
        if (index is not null && index.Length > maxGpus) return;
        var grown = new ulong[maxGpus + 1][];
        var counts = new int[maxGpus + 1];
        for (var k = 0; k <= maxGpus; k++)
        {
            grown[k] = index is not null && k < index.Length ? index[k] : new ulong[words];
            counts[k] = index is not null && k < index.Length ? _freeCount[type][k] : 0;
        }
        _freeIndex[type] = grown;
        _freeCount[type] = counts;
        _maxGpusOfType[type] = maxGpus;
    }

    private void Index(int node)
    {
        if (_state[node] != NodeState.Up) return;
        var k = FreeGpus(node);
        _freeIndex[_type[node]][k][node >> 6] |= 1UL << node;
        _freeCount[_type[node]][k]++;
    }

    private void Unindex(int node)
    {
        if (_state[node] != NodeState.Up) return;
        var k = FreeGpus(node);
        _freeIndex[_type[node]][k][node >> 6] &= ~(1UL << node);
        _freeCount[_type[node]][k]--;
    }
}
