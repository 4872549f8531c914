namespace Mekong.Policy.Jobs;

/// <summary>A project's pending jobs in their order (priority, then original submit time, then id), and the
/// same jobs grouped by shape so that a decision can skip a whole group proven unable to start.</summary>
internal sealed class ProjectQueue
{
    private readonly List<Job> _jobs = [];
    private readonly Dictionary<ShapeKey, ShapeGroup> _groups = [];
    // Per GPU type (the last slot: "any"), the fewest GPUs a queued job asks for; recomputed when groups come or go.
    private readonly int[] _smallestGpus = new int[GpuTypeTable.MaxTypes + 1];
    private bool _smallestStale = true;

    public int Count => _jobs.Count;

    /// <summary>Bumped by every change to the queue.</summary>
    public long Version { get; private set; }

    public IReadOnlyList<Job> Jobs => _jobs;

    /// <summary>Queued jobs that may be refused borrowing (not preemptible, or preempted <c>maxPreemptions</c> times):
    /// only such a job may take its project's guarantee from younger jobs. Counted as the engine says when it
    /// queues the job (<see cref="Job.MayNotBorrow"/>), so the count stays exact until the job leaves.</summary>
    public int MayNotBorrow { get; private set; }

    /// <summary>GPUs the queued jobs ask for, held jobs included: the project's demand beyond what it runs.</summary>
    public long PendingGpus { get; private set; }

    /// <summary>The groups by shape (typed as the dictionary, so a foreach enumerates without allocating).</summary>
    public Dictionary<ShapeKey, ShapeGroup> Groups => _groups;

    /// <summary>The shortest walltime queued with the shape; long.MaxValue when none is.</summary>
    public long MinWalltime(ShapeKey shape) => _groups.TryGetValue(shape, out var group) ? group.MinWalltimeTicks : long.MaxValue;

    public void Add(Job job)
    {
        var i = _jobs.BinarySearch(job, JobOrder.Instance);
        _jobs.Insert(i < 0 ? ~i : i, job);
        Version++;
        if (!_groups.TryGetValue(job.Shape, out var group))
        {
            _groups.Add(job.Shape, group = new ShapeGroup());
            _smallestStale = true;
        }
        job.Group = group;
        PendingGpus += job.TotalGpus;
        if (job.MayNotBorrow) MayNotBorrow++;
        group.Add(job);
    }

    public void Remove(Job job)
    {
        var i = _jobs.BinarySearch(job, JobOrder.Instance);
        if (i < 0 || !ReferenceEquals(_jobs[i], job)) throw new InvalidOperationException($"job {job.Id} is not queued");
        _jobs.RemoveAt(i);
        Version++;
        var group = _groups[job.Shape];
        group.Remove(job);
        job.Group = null;
        PendingGpus -= job.TotalGpus;
        if (job.MayNotBorrow) MayNotBorrow--;
        if (group.Jobs.Count == 0)
        {
            _groups.Remove(job.Shape);
            _smallestStale = true;
        }
    }

    /// <summary>The fewest GPUs (in all) a queued job that may run on the type asks for; int.MaxValue if none.</summary>
    public int SmallestJobGpus(int type)
    {
        if (_smallestStale)
        {
            Array.Fill(_smallestGpus, int.MaxValue);
            foreach (var shape in _groups.Keys)
            {
                var slot = shape.Type >= 0 ? shape.Type : GpuTypeTable.MaxTypes;
                _smallestGpus[slot] = Math.Min(_smallestGpus[slot], shape.GpusPerNode * shape.Nodes);
            }
            _smallestStale = false;
        }
        return Math.Min(_smallestGpus[type], _smallestGpus[GpuTypeTable.MaxTypes]);
    }
}

/// <summary>Pending jobs of one shape in one project, in queue order and by walltime, with counts of the kinds of
/// job the skip proofs ask about.</summary>
internal sealed class ShapeGroup
{
    /// <summary>The group's jobs in queue order (priority, then original submit time, then id).</summary>
    public List<Job> Jobs { get; } = [];

    /// <summary>The same jobs, shortest walltime first (then in queue order).</summary>
    public List<Job> ByWalltime { get; } = [];

    /// <summary>The decision in which one of the group's jobs was waiting for its victims (so is visited whatever the group's proofs).</summary>
    public int ReclaimStamp { get; set; }

    /// <summary>The decision in which the whole group was proven unable to start.</summary>
    public int BlockedStamp { get; set; }

    /// <summary>The shortest walltime queued; long.MaxValue when the group is empty.</summary>
    public long MinWalltimeTicks => ByWalltime.Count == 0 ? long.MaxValue : ByWalltime[0].WalltimeTicks;

    /// <summary>Members of priority <c>high</c>: only they may preempt the project's low jobs.</summary>
    public int High { get; private set; }

    /// <summary>High members that accept preemption, so may borrow (the others reach priority preemption
    /// only from inside their guarantee, or by taking it from the project's younger jobs).</summary>
    public int HighPreemptible { get; private set; }

    /// <summary>Members that may be refused borrowing (<see cref="Job.MayNotBorrow"/>); with none, every member
    /// outside its guarantee borrows.</summary>
    public int MayNotBorrow { get; private set; }

    /// <summary>High members that may be refused borrowing: one may still reach priority preemption outside the
    /// guarantee's headroom, by taking the guarantee from the project's younger jobs.</summary>
    public int HighMayNotBorrow { get; private set; }

    public void Add(Job job)
    {
        Count(job, 1);
        var at = Jobs.BinarySearch(job, JobOrder.Instance);
        Jobs.Insert(at < 0 ? ~at : at, job);
        at = ByWalltime.BinarySearch(job, WalltimeOrder.Instance);
        ByWalltime.Insert(at < 0 ? ~at : at, job);
    }

    public void Remove(Job job)
    {
        Count(job, -1);
        Jobs.RemoveAt(Jobs.BinarySearch(job, JobOrder.Instance));
        ByWalltime.RemoveAt(ByWalltime.BinarySearch(job, WalltimeOrder.Instance));
    }

    private void Count(Job job, int delta)
    {
        var high = job.Spec.Priority == JobPriority.High;
        if (job.MayNotBorrow) MayNotBorrow += delta;
        if (high) High += delta;
        if (high && job.Spec.Preemptible) HighPreemptible += delta;
        if (high && job.MayNotBorrow) HighMayNotBorrow += delta;
    }
}

/// <summary>Inside a project: higher priority first, then original submit time, then id (for determinism).</summary>
internal sealed class JobOrder : IComparer<Job>
{
    public static readonly JobOrder Instance = new();

    public int Compare(Job? x, Job? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        // As integers: Enum.CompareTo boxes its argument.
        var c = ((int)y!.Spec.Priority).CompareTo((int)x!.Spec.Priority);
        if (c != 0) return c;
        c = x.Spec.SubmitTime.UtcTicks.CompareTo(y.Spec.SubmitTime.UtcTicks);
        return c != 0 ? c : x.Id.CompareTo(y.Id);
    }
}

/// <summary>Shortest walltime first, then queue order.</summary>
internal sealed class WalltimeOrder : IComparer<Job>
{
    public static readonly WalltimeOrder Instance = new();

    public int Compare(Job? x, Job? y)
    {
        var c = x!.WalltimeTicks.CompareTo(y!.WalltimeTicks);
        return c != 0 ? c : JobOrder.Instance.Compare(x, y);
    }
}
