using Mekong.Policy.Accounts;
using Mekong.Policy.Jobs;

namespace Mekong.Policy;

public sealed partial class PolicyEngine
{
    /// <summary>Guarantee headroom promised, by account and type, to guaranteed jobs of this decision that
    /// preempted borrowers and wait for them: later jobs of the same accounts may not take it meanwhile, or the
    /// waiting job would no longer be guaranteed once its GPUs come free (invariant 4). Cleared by each decision.</summary>
    private readonly Dictionary<(int Account, int Type), int> _promised = [];

    private readonly FairShare.EntitledShares _entitled = new();
    private readonly List<int> _belowShare = [];
    private int _entitledStamp;

    private int Promised(int account, int type) =>
        _promised.Count == 0 ? 0 : _promised.GetValueOrDefault((account, type));

    private void PromiseGuarantee(Job job, int type)
    {
        foreach (var i in _accounts[job.Project].PathUp)
            _promised[(i, type)] = Promised(i, type) + job.TotalGpus;
    }

    /// <summary>Every account on the path stays within its guarantee with the job included.</summary>
    private bool WithinGuarantee(Account project, int type, int gpus)
    {
        foreach (var i in project.PathUp)
        {
            var a = _accounts[i];
            if (a.Within[type] + Promised(i, type) + gpus > a.Guarantee[type]) return false;
        }
        return true;
    }

    /// <summary>Smallest guarantee headroom on the path: the largest job that would be guaranteed.</summary>
    private int GuaranteeHeadroom(Account project, int type)
    {
        var headroom = int.MaxValue;
        foreach (var i in project.PathUp)
        {
            var a = _accounts[i];
            headroom = Math.Min(headroom, a.Guarantee[type] - a.Within[type] - Promised(i, type));
        }
        return headroom;
    }

    /// <summary>The first account on the path the job would push past its limit, or null.</summary>
    private Account? LimitBlocker(Account project, int type, int gpus)
    {
        foreach (var i in project.PathUp)
        {
            var a = _accounts[i];
            if (a.Limit[type] != Account.NoLimit && a.Used[type] + gpus > a.Limit[type]) return a;
        }
        return null;
    }

    /// <summary>The first account on the path whose budget is spent, or null.</summary>
    private Account? BudgetBlocker(Account project)
    {
        foreach (var i in project.PathUp)
            if (_accounts[i].BudgetExhausted) return _accounts[i];
        return null;
    }

    /// <summary>A spent budget set to <c>scavenge</c>: the project's new jobs only borrow.</summary>
    private bool ForcedBorrower(Account project) =>
        BudgetBlocker(project) is { Budget.OnExhausted: BudgetAction.Scavenge };

    /// <summary>Only preemptible jobs borrow, and not once preempted <c>maxPreemptions</c> times — unless the job
    /// could never run inside a guarantee (larger than its path's guarantee, or its budget forces borrowing):
    /// "wait for guaranteed capacity" would then mean waiting forever, so it keeps borrowing (still preemptible,
    /// so reclaim stays prompt). Found by trace replay: a 16-GPU job of a project guaranteed 11 GPUs starved.</summary>
    private bool CanBorrow(Job job) =>
        job.Spec.Preemptible && (job.PreemptionCount < Settings.MaxPreemptions || !CanEverBeGuaranteed(job));

    private bool CanEverBeGuaranteed(Job job)
    {
        var project = _accounts[job.Project];
        if (ForcedBorrower(project)) return false;
        for (var t = FirstType(job); t >= 0; t = NextType(job, t))
        {
            var fits = true;
            foreach (var i in project.PathUp)
                if (_accounts[i].Guarantee[t] < job.TotalGpus) { fits = false; break; }
            if (fits) return true;
        }
        return false;
    }

    /// <summary>Fair-share-aware borrowing (<see cref="PolicySettings.BorrowBeyondFairShare"/>) for a job of
    /// <paramref name="gpus"/> GPUs: the first account on the path that would refuse it — holding its entitled share
    /// times the setting, or holding at least <see cref="PolicySettings.BorrowAnySizeBelowShare"/> times it and
    /// pushed past the setting by the job — while a project outside it, with jobs queued, holds less than its own;
    /// or null if the job may borrow. Within a decision holdings only grow and the entitlements do not change, so a
    /// refusal holds for the rest of the decision, and Decide() and Schedule() refuse the same jobs. A refusal also
    /// holds for every larger job.</summary>
    private Account? FairShareBlockerFor(Account project, int gpus)
    {
        var factor = Settings.BorrowBeyondFairShare;
        if (factor <= 0) return null;
        EnsureEntitled();
        var anySize = Math.Min(factor, Settings.BorrowAnySizeBelowShare);
        foreach (var i in project.PathUp)
        {
            var a = _accounts[i];
            var share = _entitled[i];
            if (a.GpuRate < anySize * share || (a.GpuRate < factor * share && a.GpuRate + gpus <= factor * share)) continue;
            if (AnyBelowShareOutside(a)) return a;
        }
        return null;
    }

    /// <summary>Whether fair-share-aware borrowing refuses every borrowing job of the project: it refuses the
    /// smallest queued one (a refusal holds for every larger job). Queues only lose jobs and holdings only grow
    /// within a decision, so once true it stays true for the rest of the decision; the skips rely on that.</summary>
    private Account? FairShareBlocker(Account project)
    {
        if (Settings.BorrowBeyondFairShare <= 0) return null;
        var smallest = int.MaxValue;
        for (var t = 0; t < _types.Count; t++) smallest = Math.Min(smallest, project.Queue.SmallestJobGpus(t));
        return FairShareBlockerFor(project, smallest == int.MaxValue ? 0 : smallest);
    }

    /// <summary>Computes the entitled shares once per decision, when first needed.</summary>
    private void EnsureEntitled()
    {
        if (_entitledStamp == _stamp) return;
        _entitledStamp = _stamp;
        long capacity = 0;
        for (var t = 0; t < _types.Count; t++) capacity += _cluster.UpGpusOfType(t);
        _entitled.Compute(_accounts, capacity);
        _belowShare.Clear();
        foreach (var p in _fairTree.Order)
        {
            var q = _accounts[p];
            if (q.Queue.Count > 0 && q.GpuRate < _entitled[p]) _belowShare.Add(p);
        }
    }

    /// <summary>Whether a project outside <paramref name="account"/>'s subtree has jobs queued and holds less than
    /// its entitled share. Projects that no longer qualify leave the list (holdings only grow, queues only shrink
    /// within a decision), so the search is amortised over the decision.</summary>
    private bool AnyBelowShareOutside(Account account)
    {
        for (var k = 0; k < _belowShare.Count;)
        {
            var q = _accounts[_belowShare[k]];
            if (q.Queue.Count == 0 || q.GpuRate >= _entitled[q.Index])
            {
                _belowShare[k] = _belowShare[^1];
                _belowShare.RemoveAt(_belowShare.Count - 1);
                continue;
            }
            if (Array.IndexOf(q.PathUp, account.Index) < 0) return true;
            k++;
        }
        return false;
    }

    private PendingReason FairShareReason(Job job, Account blocker) =>
        new(PendingReasonKind.QuotaLimit, blocker.Index, -1, job.TotalGpus, blocker.GpuRate, (long)Math.Floor(_entitled[blocker.Index]), 0, 0)
        { AtFairShare = true };

    /// <summary>A job that may not borrow (not preemptible, or preempted <c>maxPreemptions</c> times) waits for
    /// guaranteed capacity; but the project's younger jobs, started later inside the guarantee, would keep
    /// taking that capacity first and starve it (found by trace replay: 64-GPU gangs of a project guaranteed
    /// 77 GPUs waited until the cluster was empty, then ran one after another). The guarantee goes to a
    /// project's jobs in queue order, so such a job may start inside it by turning the project's youngest
    /// guaranteed jobs into borrowers — the reverse of <see cref="PromoteBorrowers"/>. Returns how many GPUs of
    /// guarantee room the younger jobs must yield (0: none needed), or -1 if they hold too little.</summary>
    private int YoungerWithinToYield(Account project, Job job, int type)
    {
        var need = 0;
        foreach (var i in project.PathUp)
        {
            var a = _accounts[i];
            if (a.Guarantee[type] < job.TotalGpus + Promised(i, type)) return -1;
            need = Math.Max(need, a.Within[type] + Promised(i, type) + job.TotalGpus - a.Guarantee[type]);
        }
        if (need <= 0) return 0;
        var younger = 0;
        foreach (var y in project.Running)
            if (!y.Borrowing && y.Status == JobStatus.Running && y.AllocatedType == type && JobOrder.Instance.Compare(job, y) < 0) younger += y.TotalGpus;
        return younger >= need ? need : -1;
    }

    /// <summary>Turns the project's youngest guaranteed jobs (after <paramref name="job"/> in queue order) into
    /// borrowers until they have yielded <paramref name="gpus"/> GPUs of guarantee room.</summary>
    private void YieldWithin(Account project, Job job, int type, int gpus, long now)
    {
        while (gpus > 0)
        {
            Job? youngest = null;
            foreach (var y in project.Running)
            {
                if (y.Borrowing || y.Status != JobStatus.Running || y.AllocatedType != type || JobOrder.Instance.Compare(job, y) >= 0) continue;
                if (youngest is null || JobOrder.Instance.Compare(y, youngest) > 0) youngest = y;
            }
            if (youngest is null) throw new InvalidOperationException("guarantee room to yield was counted but is gone");
            _accounts.ChangeHolding(project, type, -youngest.TotalGpus, borrowing: false, _typeWeight[type], now);
            _accounts.ChangeHolding(project, type, youngest.TotalGpus, borrowing: true, _typeWeight[type], now);
            youngest.Borrowing = true;
            _cluster.TenantChanged(youngest);
            gpus -= youngest.TotalGpus;
        }
    }

    private static PendingReason QuotaReason(Job job, Account blocker, int type) =>
        PendingReason.Of(PendingReasonKind.QuotaLimit, blocker.Index, type, job.TotalGpus, blocker.Used[type], blocker.Limit[type]);

    private PendingReason NoBorrowReason(Job job, Account project, int type)
    {
        // Name the account whose guarantee binds, with its numbers.
        var binding = project;
        foreach (var i in project.PathUp)
        {
            var a = _accounts[i];
            if (a.Within[type] + job.TotalGpus > a.Guarantee[type]) { binding = a; break; }
        }
        return new PendingReason(PendingReasonKind.QuotaLimit, binding.Index, type, job.TotalGpus,
            binding.Within[type], binding.Guarantee[type], 0, 0) { CannotBorrow = true };
    }


    private static PendingReason BudgetReason(Job job, Account blocker) =>
        PendingReason.Of(PendingReasonKind.Budget, blocker.Index, job.Type, job.TotalGpus,
            (long)(blocker.BudgetUsedSeconds / 3600), blocker.Budget!.GpuHours);
}
