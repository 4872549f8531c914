using Mekong.Policy.Jobs;

namespace Mekong.Policy.Backfill;

/// <summary>Running jobs per GPU type in the order their GPUs are expected back (walltime end, or kill time
/// when stopping). Reservations walk it from the front: "what frees up next" instead of scanning every node.</summary>
internal sealed class EndTimeIndex
{
    private readonly SortedSet<Job>?[] _byType = new SortedSet<Job>?[GpuTypeTable.MaxTypes];

    public SortedSet<Job> Of(int type) => _byType[type] ??= new SortedSet<Job>(ByEnd.Instance);

    public void Add(Job job) => Of(job.AllocatedType).Add(job);

    public void Remove(Job job) => Of(job.AllocatedType).Remove(job);

    /// <summary>Changes a running job's kill time, keeping the index ordered.</summary>
    public void SetKill(Job job, long killTicks)
    {
        var set = Of(job.AllocatedType);
        set.Remove(job);
        job.KillTicks = killTicks;
        set.Add(job);
    }

    private sealed class ByEnd : IComparer<Job>
    {
        public static readonly ByEnd Instance = new();

        public int Compare(Job? x, Job? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            var c = x!.EndTicks.CompareTo(y!.EndTicks);
            return c != 0 ? c : x.Id.CompareTo(y.Id);
        }
    }
}
