using Mekong.Policy.Accounts;
using Mekong.Policy.Jobs;

namespace Mekong.Policy;

public sealed partial class PolicyEngine
{
    /// <summary>Guarantee headroom promised, by account and type, to guaranteed jobs of this decision that
    /// preempted borrowers and wait for them: later jobs of the same accounts may not take it meanwhile, or the
    /// waiting job would no longer be guaranteed once its GPUs come free (invariant 4). Cleared by each decision.</summary>
    private readonly Dictionary<(int Account, int Type), int> _promised = [];

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
