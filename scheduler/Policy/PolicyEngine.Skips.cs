using Mekong.Policy.Accounts;
using Mekong.Policy.Jobs;
using Mekong.Policy.Placement;

namespace Mekong.Policy;

/// <summary>What lets <see cref="Decide"/> pass over work a full pass would do without effect: proofs that a
/// project, a shape group or a job cannot start, preempt or reserve anything in this decision. Every proof
/// rests on facts that only grow within a decision (capacity only shrinks, claims and memoised failures
/// only accumulate), so a proof made once holds for the rest of the decision.</summary>
public sealed partial class PolicyEngine
{
    /// <summary>The GPU types a shape may run on, as [first, end): its own type, or every type for "any".</summary>
    private (int First, int End) TypesOf(ShapeKey shape) => shape.Type >= 0 ? (shape.Type, shape.Type + 1) : (0, _types.Count);

    /// <summary>Whether any queued job of the project could be inside its guarantee (cheap, per shape group).</summary>
    private bool MayHaveGuaranteedJob(Account project)
    {
        if (ForcedBorrower(project)) return false;
        for (var t = 0; t < _types.Count; t++)
        {
            var gpus = project.Queue.SmallestJobGpus(t);
            if (gpus != int.MaxValue && GuaranteeHeadroom(project, t) >= gpus) return true;
        }
        return false;
    }

    /// <summary>Phase 2's counterpart of <see cref="ProvenBlocked"/>: no reservation left, and every group
    /// that could be inside its guarantee is known (this decision) to fail both placement and reclaim.</summary>
    private bool GuaranteedProvenBlocked(Account project, long now)
    {
        if (_book.Counted < Settings.Reservations || _waitingStamp[project.Index] == _stamp || PriorityPreemptionPossible(project, now, borrowingSweep: false)) return false;
        foreach (var (shape, group) in project.Queue.Groups)
        {
            var gpus = shape.GpusPerNode * shape.Nodes;
            for (var (t, end) = TypesOf(shape); t < end; t++)
            {
                if (GuaranteeHeadroom(project, t) < gpus || LimitBlocker(project, t, gpus) is not null) continue;
                var key = shape with { Type = t };
                if (!PlacementBlocked(key, group.MinWalltimeTicks)
                    || !(_reclaimFailed.Contains(key) || _reclaimFailedFor.Contains((project.Index, key)))) return false;
            }
        }
        return true;
    }

    /// <summary>Whether a high job of the project might still displace one of its low jobs in this decision.
    /// Each high shape group not yet known to fail is searched now, without any job's exclusions (the search
    /// only reads state, and failing without exclusions means failing with them), so the answer is exact.
    /// A search is first made ignoring claims: its failure holds whatever the claims, so it is carried into
    /// later decisions (see <see cref="PriorityFailureCarried"/>); only if it succeeds are claims respected.</summary>
    private bool PriorityPreemptionPossible(Account project, long now, bool borrowingSweep)
    {
        if (!project.PriorityPreemption || NoPriorityPreemptionCarried(project)) return false;
        bool? anyLow = null;
        // Whether every high group is known to fail ignoring claims: then the whole answer carries over, for as
        // many room events as the least of their slacks.
        var carried = true;
        var slack = long.MaxValue;
        foreach (var (shape, group) in project.Queue.Groups)
        {
            if (group.High == 0) continue;
            for (var (t, end) = TypesOf(shape); t < end; t++)
            {
                var typed = shape with { Type = t };
                var key = (project.Index, typed);
                var failedSlack = PriorityFailureSlack(project.Index, typed);
                if (failedSlack >= 0)
                {
                    slack = Math.Min(slack, failedSlack);
                    _priorityFailed.Add(key);
                    continue;
                }
                if (_priorityFailed.Contains(key)) { carried = false; continue; }
                if (!MayBeAdmitted(project, group, t, shape.GpusPerNode * shape.Nodes, borrowingSweep)) { carried = false; continue; }
                anyLow ??= HasRunningLow(project);
                if (anyLow == false)
                {
                    // No low job runs: nothing to displace until the project starts one (which bumps its version).
                    CarryNoPriorityPreemption(project, long.MaxValue);
                    return false;
                }
                var request = new PlacementRequest(t, shape.Nodes, shape.GpusPerNode, shape.Cpu, shape.Memory, group.MinWalltimeTicks);
                if (!FindPriorityVictims(project, request, now, null, ignoreClaims: true))
                {
                    CarryPriorityFailure(project.Index, typed, _victims.NodesFound);
                    slack = Math.Min(slack, PriorityFailureSlack(project.Index, typed));
                }
                else if (FindPriorityVictims(project, request, now, null)) return true;
                else carried = false;
                _priorityFailed.Add(key);
            }
        }
        if (carried) CarryNoPriorityPreemption(project, slack);
        return false;
    }

    /// <summary>Whether a high job of the group might be admitted on the type at the project's turn — priority
    /// preemption needs that: no limit refuses it, and it fits the guarantee's headroom (all phase 2 admits), or
    /// in phase 3 it may borrow without the fair-share rule refusing it, or it may not borrow (it may then take
    /// the guarantee from the project's younger jobs: counted as possible). Asked at the project's turn, when no
    /// other project acts until the turn ends, and a skipped project starts nothing in it: the answer holds for
    /// the whole turn.</summary>
    private bool MayBeAdmitted(Account project, ShapeGroup group, int type, int gpus, bool borrowingSweep)
    {
        if (LimitBlocker(project, type, gpus) is not null) return false;
        if (!ForcedBorrower(project) && GuaranteeHeadroom(project, type) >= gpus) return true;
        if (!borrowingSweep) return false;
        return group.HighMayNotBorrow > 0 || (group.HighPreemptible > 0 && FairShareBlockerFor(project, gpus) is null);
    }

    private static bool HasRunningLow(Account project)
    {
        foreach (var v in project.Running)
            if (v.Status == JobStatus.Running && v.Spec.Priority == JobPriority.Low) return true;
        return false;
    }

    /// <summary>Phase 3's per-job form of <see cref="ProvenBlocked"/>, for projects that cannot be skipped
    /// whole: a job certain to stay pending without side effects is passed over (its explanation keeps its
    /// last full-pass value). Every proof is monotone within a decision, so it holds when the job's turn comes.</summary>
    private bool JobProvenBlocked(Account project, Job job, bool budgetHeld)
    {
        if (IsHandled(job) || job.Held || budgetHeld) return true;
        if (job.ReclaimNodes is not null) return false;
        if (job.Group is { } group && GroupProvenBlocked(project, job.Shape, group)) return true;
        var reservationsLeft = _book.Counted < Settings.Reservations;
        var priority = project.PriorityPreemption && job.Spec.Priority == JobPriority.High;
        for (var t = FirstType(job); t >= 0; t = NextType(job, t))
        {
            if (LimitBlocker(project, t, job.TotalGpus) is not null) continue;
            var shape = job.Shape with { Type = t };
            if (reservationsLeft || !PlacementBlocked(shape, job.WalltimeTicks)) return false;
            if (priority && !_priorityFailed.Contains((project.Index, shape))) return false;
        }
        return true;
    }

    /// <summary>A whole shape group of the project is blocked in phase 3 (the proof of <see cref="ProvenBlocked"/>
    /// for one group). Proofs only grow within a decision, so a proven group is remembered for the decision.</summary>
    private bool GroupProvenBlocked(Account project, ShapeKey shape, ShapeGroup group)
    {
        if (group.BlockedStamp == _stamp) return true;
        if (_book.Counted < Settings.Reservations) return false;
        var gpus = shape.GpusPerNode * shape.Nodes;
        var priority = project.PriorityPreemption && group.High > 0;
        for (var (t, end) = TypesOf(shape); t < end; t++)
        {
            if (LimitBlocker(project, t, gpus) is not null) continue;
            var key = shape with { Type = t };
            if (!PlacementBlocked(key, group.MinWalltimeTicks)) return false;
            if (priority && !_priorityFailed.Contains((project.Index, key))) return false;
        }
        group.BlockedStamp = _stamp;
        return true;
    }

    /// <summary>Whether every queued job of the project is certain to stay pending without side effects.
    /// A group refused by admission (limit, held budget) is blocked outright; a group that only fails
    /// placement (known this decision not to fit even at its shortest walltime) is blocked once no
    /// reservation is left to hand out. Priority preemption is never skipped.</summary>
    private bool ProvenBlocked(Account project, long now)
    {
        if (_readyStamp[project.Index] == _stamp || PriorityPreemptionPossible(project, now, borrowingSweep: true)) return false;
        var budget = BudgetBlocker(project);
        if (budget is { Budget.OnExhausted: BudgetAction.Hold }) return true;
        var reservationsLeft = _book.Counted < Settings.Reservations;
        foreach (var (shape, group) in project.Queue.Groups)
        {
            var gpus = shape.GpusPerNode * shape.Nodes;
            for (var (t, end) = TypesOf(shape); t < end; t++)
            {
                if (LimitBlocker(project, t, gpus) is not null) continue;
                if (reservationsLeft || !PlacementBlocked(shape with { Type = t }, group.MinWalltimeTicks)) return false;
            }
        }
        return true;
    }

    /// <summary>No node set can take the shape now: too few nodes with room, or known to have failed this
    /// decision at a walltime no longer than the group's shortest.</summary>
    private bool PlacementBlocked(ShapeKey shape, long minWalltime) =>
        _cluster.CountWithFree(shape.Type, shape.GpusPerNode) < shape.Nodes
        || (_placeFailedAt.TryGetValue(shape, out var failedAt) && failedAt <= minWalltime);

    /// <summary>Phase 3: a project held at its fair share (<see cref="FairShareBlocker"/>) passes the sweep without
    /// effect when every job of it would be refused as a borrower: none waits for its victims (the rule spares
    /// those), none fits inside its guarantee on any type, and none may take the guarantee from the project's
    /// younger jobs (only a job that may not borrow does). The
    /// refusal holds for the rest of the decision, and the shares it rests on are computed when the sweep begins
    /// in both Decide() and Schedule(), so they agree.</summary>
    private bool FairShareProvenBlocked(Account project)
    {
        if (Settings.BorrowBeyondFairShare <= 0 || Settings.MaxPreemptions == 0 || _waitingStamp[project.Index] == _stamp) return false;
        var forced = ForcedBorrower(project);
        if (!forced && project.Queue.MayNotBorrow > 0) return false;
        if (FairShareBlocker(project) is null) return false;
        if (forced) return true; // never guaranteed: each job is refused as a borrower or as one that may not borrow
        for (var t = 0; t < _types.Count; t++)
        {
            var smallest = project.Queue.SmallestJobGpus(t);
            if (smallest != int.MaxValue && GuaranteeHeadroom(project, t) >= smallest) return false;
        }
        return true;
    }

    /// <summary>Whether every job of the shape would borrow: it fits no type's guarantee headroom (which only
    /// shrinks within a decision) and none of the project's jobs may take the guarantee from younger ones. For a
    /// project held at its fair share such a group passes phase 3 without effect.</summary>
    private bool OnlyBorrowers(Account project, ShapeKey shape)
    {
        if (Settings.MaxPreemptions == 0) return false;
        if (ForcedBorrower(project)) return true;
        if (project.Queue.MayNotBorrow > 0) return false;
        var gpus = shape.GpusPerNode * shape.Nodes;
        for (var (t, end) = TypesOf(shape); t < end; t++)
            if (GuaranteeHeadroom(project, t) >= gpus) return false;
        return true;
    }
}
