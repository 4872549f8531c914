using Mekong.Simulation.Setup;

namespace Mekong.Simulation.Schedulers;

/// <summary>The baseline: strict first-come first-served by submit time, first fit (lowest node index that has
/// room), no backfill (the queue stops at the first job that does not fit), no preemption. Deliberately not
/// the core: it is what a centre without a policy gets, and what the core must beat.</summary>
internal sealed class FifoReplayScheduler : IReplayScheduler
{
    private readonly int[] _free;
    private readonly string[] _typeOf;
    private readonly Queue<SimJob> _queue = new();
    private readonly Dictionary<int, int[]> _placed = [];
    private readonly List<int> _chosen = [];

    public FifoReplayScheduler(ClusterSpec cluster)
    {
        _free = [.. cluster.Nodes.Select(n => n.Gpus)];
        _typeOf = [.. cluster.Nodes.Select(n => n.GpuType)];
    }

    // Arrivals come in submit order (ties in trace order), so a plain queue is FCFS.
    public void Submit(SimJob job) => _queue.Enqueue(job);

    public void Finish(SimJob job, bool completed)
    {
        if (!_placed.Remove(job.Index, out var nodes)) return;
        foreach (var n in nodes) _free[n] += job.GpusPerNode;
    }

    public void Decide(List<SimJob> started, List<(SimJob Victim, long GraceS)> preempted)
    {
        while (_queue.Count > 0 && TryPlace(_queue.Peek()))
        {
            var job = _queue.Dequeue();
            var nodes = _chosen.ToArray();
            foreach (var n in nodes) _free[n] -= job.GpusPerNode;
            _placed.Add(job.Index, nodes);
            started.Add(job);
        }
    }

    private bool TryPlace(SimJob job)
    {
        _chosen.Clear();
        for (var n = 0; n < _free.Length && _chosen.Count < job.Nodes; n++)
        {
            if (_free[n] < job.GpusPerNode) continue;
            if (job.GpuType is not null && !string.Equals(_typeOf[n], job.GpuType, StringComparison.Ordinal)) continue;
            // A gang takes nodes of one type.
            if (_chosen.Count > 0 && !string.Equals(_typeOf[n], _typeOf[_chosen[0]], StringComparison.Ordinal)) continue;
            _chosen.Add(n);
        }
        return _chosen.Count == job.Nodes;
    }
}
