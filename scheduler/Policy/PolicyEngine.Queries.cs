using Mekong.Policy.Jobs;

namespace Mekong.Policy;

public sealed partial class PolicyEngine
{
    /// <summary>Why the job waits, from the last decision that looked at it; null if it is not pending.</summary>
    public PendingExplanation? Explain(JobId id)
    {
        if (!_jobs.TryGetValue(id, out var job) || job.Status != JobStatus.Pending) return null;
        var r = job.Reason;
        var account = r.Kind == PendingReasonKind.None ? _accounts[job.Project].Path : _accounts[r.Account].Path;
        var type = r.Type >= 0 && r.Type < _types.Count ? _types.NameOf(r.Type) : job.Spec.GpuType;
        return new PendingExplanation(
            id,
            r.Kind,
            account,
            type,
            r.Requested == 0 ? job.TotalGpus : r.Requested,
            r.Held,
            r.Cap,
            r.EstimatedStartTicks > 0 ? new DateTimeOffset(r.EstimatedStartTicks, TimeSpan.Zero) : null,
            r.Kind == PendingReasonKind.Priority && r.BlockedBy > 0 ? new JobId(r.BlockedBy) : null)
        {
            CannotBorrow = r.CannotBorrow,
            AtFairShare = r.AtFairShare,
        };
    }

    /// <summary>The job's state as the core sees it, or null if the core does not hold it.</summary>
    public JobView? GetJob(JobId id)
    {
        if (!_jobs.TryGetValue(id, out var job)) return null;
        var allocations = new NodeAllocation[job.Nodes.Length];
        for (var i = 0; i < allocations.Length; i++) allocations[i] = new NodeAllocation(_cluster.NameOf(job.Nodes[i]), job.Masks[i]);
        return new JobView(job.Spec, job.Status, allocations,
            job.AllocatedType >= 0 ? _types.NameOf(job.AllocatedType) : null,
            job.Status == JobStatus.Pending ? null : new DateTimeOffset(job.StartTicks, TimeSpan.Zero),
            job.Borrowing, job.PreemptionCount, job.Held);
    }

    /// <summary>Every job the core holds, in id order.</summary>
    public IEnumerable<JobView> Jobs() => _jobs.Keys.Order().Select(id => GetJob(id)!);

    /// <summary>Nodes with their state and free GPUs.</summary>
    public IReadOnlyList<NodeView> Nodes()
    {
        var list = new List<NodeView>(_cluster.Count);
        for (var n = 0; n < _cluster.Count; n++)
            list.Add(new NodeView(
                new NodeSpec(_cluster.NameOf(n), _types.NameOf(_cluster.TypeOf(n)), _cluster.GpusOf(n), _cluster.CpuOf(n), _cluster.MemoryOf(n), _cluster.BlockName(_cluster.BlockOf(n))),
                _cluster.StateOf(n), _cluster.FreeMask(n), _cluster.FreeCpu(n), _cluster.FreeMemory(n)));
        return list;
    }

    /// <summary>Accounts with their holdings and fair-share usage, root first then in creation order.</summary>
    public IReadOnlyList<AccountView> Accounts()
    {
        var now = NowTicks;
        var list = new List<AccountView>();
        foreach (var a in _accounts.All)
        {
            if (a.Index != 0 && a.Spec is null) continue;
            if (a.Index != 0 && !_accounts.TryGet(a.Path, out _)) continue;
            _accounts.Accrue(a, now);
            var used = new Dictionary<string, int>();
            var within = new Dictionary<string, int>();
            for (var t = 0; t < _types.Count; t++)
            {
                if (a.Used[t] != 0) used[_types.NameOf(t)] = a.Used[t];
                if (a.Within[t] != 0) within[_types.NameOf(t)] = a.Within[t];
            }
            list.Add(new AccountView(a.Path, a.Spec, used, within, a.DecayedUsage, a.BudgetUsedSeconds / 3600.0, a.Queue.Count));
        }
        return list;
    }

    /// <summary>Projects in the current fair-share order (as of now).</summary>
    public IReadOnlyList<string> FairShareOrder()
    {
        _accounts.AccrueAll(NowTicks);
        _fairTree.Compute(_accounts);
        return [.. _fairTree.Order.Select(i => _accounts[i].Path)];
    }

    /// <summary>For tests: victim searches try every node (see <see cref="Preemption.VictimSelector.Exhaustive"/>).</summary>
    internal bool ExhaustiveVictimSearch
    {
        get => _victims.Exhaustive;
        set => _victims.Exhaustive = value;
    }

    /// <summary>For tests: the first tenant slot that disagrees with its job (the victim search reads slots, not
    /// jobs), or null.</summary>
    internal string? TenantSlotMismatch()
    {
        for (var n = 0; n < _cluster.Count; n++)
        {
            foreach (var t in _cluster.Tenants(n))
            {
                var j = t.Job;
                if (t.Project != j.Project || t.Borrowing != j.Borrowing || t.Terminating != (j.Status == JobStatus.Terminating)
                    || t.StartTicks != j.StartTicks || t.GraceTicks != j.Spec.GracePeriod.Ticks || t.TotalGpus != j.TotalGpus || t.Low != (j.Spec.Priority == JobPriority.Low))
                    return $"node {_cluster.NameOf(n)}: the slot of job {j.Id} disagrees with the job";
            }
            var borrowers = _cluster.Tenants(n).Where(t => !t.Terminating && t.Borrowing).ToList();
            var latest = borrowers.Count == 0 ? long.MinValue : borrowers.Max(t => t.StartTicks);
            var fewest = borrowers.Count == 0 ? int.MaxValue : borrowers.Min(t => t.TotalGpus);
            if (_cluster.BorrowerLatestStart(n) != latest || _cluster.BorrowerFewestGpus(n) != fewest
                || _cluster.StoppingTenants(n) != _cluster.Tenants(n).Count(t => t.Terminating))
                return $"node {_cluster.NameOf(n)}: its borrower summary disagrees with its tenants";
        }
        return null;
    }
}

/// <summary>A job as the core holds it.</summary>
public sealed record JobView(
    JobSpec Spec,
    JobStatus Status,
    IReadOnlyList<NodeAllocation> Allocations,
    string? GpuType,
    DateTimeOffset? Started,
    bool Borrowing,
    int PreemptionCount,
    bool Held);

/// <summary>A node with its live free capacity.</summary>
public sealed record NodeView(NodeSpec Spec, NodeState State, ulong FreeGpuMask, int FreeCpu, long FreeMemoryMb)
{
    public int FreeGpus => System.Numerics.BitOperations.PopCount(FreeGpuMask);
}

/// <summary>An account with what it holds (per GPU type), what of that is inside its guarantee,
/// its decayed fair-share usage (weighted GPU-seconds) and budget burn this period.</summary>
public sealed record AccountView(
    string Path,
    AccountSpec? Spec,
    IReadOnlyDictionary<string, int> Used,
    IReadOnlyDictionary<string, int> WithinGuarantee,
    double DecayedUsage,
    double BudgetUsedGpuHours,
    int Pending);
