using Mekong.Policy.Accounts;
using Mekong.Policy.Jobs;
using Mekong.Policy.Placement;

namespace Mekong.Policy;

/// <summary>Phase 3 of <see cref="Decide"/> without walking every project's groups: once no reservation is left
/// to hand out, a project can only start something if one of its groups has a job short enough to fit now. For
/// each shape, one placement probe finds how long a job may run and still fit; <see cref="QueuedShapes"/> then
/// names the projects with a group below that, in one ordered read. Every other project is proven blocked.</summary>
/// <remarks>The marks stay valid for the rest of the decision: a project's queue changes only when its own turn
/// comes, and the walltime that still fits only shrinks (capacity only shrinks and claims only grow), so a
/// project unmarked now would fail <see cref="ProvenBlocked"/>'s placement test at its turn too.</remarks>
public sealed partial class PolicyEngine
{
    /// <summary>Per account: the decision in which one of its groups had a job short enough to fit.</summary>
    private int[] _candidateStamp = [];
    private int _candidatesMarked;

    /// <summary>Per account: its last entry in <see cref="_marks"/> (valid while its candidate stamp is current).</summary>
    private int[] _lastMark = [];

    /// <summary>Why each candidate was marked — its group's shape, on which type — chained per project.</summary>
    private readonly List<(ShapeKey Group, ShapeKey Typed, int Previous)> _marks = [];

    /// <summary>Whether phase 3 may pass over the project without looking at its groups: no reservation left,
    /// no group that might fit, no job ready on its victims' nodes, and no priority preemption possible.</summary>
    private bool NotACandidate(Account project, long now)
    {
        if (_book.Counted < Settings.Reservations) return false;
        if (_candidatesMarked != _stamp) MarkCandidates(now);
        var p = project.Index;
        if (_readyStamp[p] == _stamp || (_candidateStamp[p] == _stamp && AMarkStillFits(project))) return false;
        return !PriorityPreemptionPossible(project, now, borrowingSweep: true);
    }

    /// <summary>Stamps the groups of the jobs still waiting for their victims (after <see cref="ReclaimOutstanding"/>
    /// has dropped those whose nodes no longer hold them).</summary>
    private void MarkReclaimerGroups()
    {
        _reclaimers.Clear();
        foreach (var id in _reclaiming)
        {
            if (!_jobs.TryGetValue(id, out var job) || job.ReclaimNodes is null || job.Group is not { } group) continue;
            group.ReclaimStamp = _stamp;
            _reclaimers.Add(job);
        }
    }

    /// <summary>The jobs still waiting for their victims when the decision began, in id order.</summary>
    private readonly List<Job> _reclaimers = [];

    /// <summary>Phase 2's open groups: some type would keep every account on the path within its guarantee
    /// with one of its jobs included (guarantee headroom only shrinks within a decision).</summary>
    private bool MayBeGuaranteed(Account project, ShapeKey shape)
    {
        var gpus = shape.GpusPerNode * shape.Nodes;
        for (var (t, end) = TypesOf(shape); t < end; t++)
            if (GuaranteeHeadroom(project, t) >= gpus) return true;
        return false;
    }

    /// <summary>Whether a group that made the project a candidate might still start a job at its turn: earlier
    /// projects' starts may since have taken the room (or reached a limit). The project's other groups were
    /// already blocked when marked, so if none of these may fit, the project is blocked.</summary>
    private bool AMarkStillFits(Account project)
    {
        for (var m = _lastMark[project.Index]; m >= 0; m = _marks[m].Previous)
        {
            var (group, typed, _) = _marks[m];
            if (LimitBlocker(project, typed.Type, typed.GpusPerNode * typed.Nodes) is null
                && !PlacementBlocked(typed, project.Queue.MinWalltime(group))) return true;
        }
        return false;
    }

    private void MarkCandidates(long now)
    {
        _candidatesMarked = _stamp;
        _marks.Clear();
        if (_candidateStamp.Length < _accounts.Count)
        {
            _candidateStamp = new int[_accounts.Count * 2];
            _lastMark = new int[_candidateStamp.Length];
        }
        foreach (var (shape, groups) in _queuedShapes.Shapes)
        {
            if (groups.Count == 0) continue;
            for (var (t, end) = TypesOf(shape); t < end; t++)
            {
                var typed = shape with { Type = t };
                var fits = ShortestNotFitting(typed, groups, now);
                foreach (var (minWalltime, project) in groups)
                {
                    if (minWalltime >= fits) break;
                    _marks.Add((shape, typed, _candidateStamp[project] == _stamp ? _lastMark[project] : -1));
                    _lastMark[project] = _marks.Count - 1;
                    _candidateStamp[project] = _stamp;
                }
            }
        }
    }

    /// <summary>The shortest walltime with which the typed shape does not fit now (long.MaxValue: every queued
    /// one fits). At most one probe: placed at the longest walltime still in doubt, it either fits (and so does
    /// every shorter one) or its failure says how long a job could run and still fit.</summary>
    private long ShortestNotFitting(ShapeKey typed, List<(long MinWalltime, int Project)> groups, long now)
    {
        if (_cluster.CountWithFree(typed.Type, typed.GpusPerNode) < typed.Nodes) return 0;
        var known = _placeFailedAt.TryGetValue(typed, out var failedAt) ? failedAt : long.MaxValue;
        if (groups[0].MinWalltime >= known) return known;
        var probe = Math.Min(groups[^1].MinWalltime, known - 1);
        var request = new PlacementRequest(typed.Type, typed.Nodes, typed.GpusPerNode, typed.Cpu, typed.Memory, probe);
        if (_placer.TryPlaceNow(request, now)) return known;
        RememberPlacementFailure(typed, probe);
        return _placeFailedAt[typed];
    }

    private readonly List<Job> _mayAct = [];

    /// <summary>Phase 3 once no reservation is left: a job can then only act by starting now (or by priority
    /// preemption, or on its victims' nodes), so only jobs short enough to fit somewhere, refused by no limit or
    /// fair share, are visited, in queue order. The others would be passed over at their turn anyway: every test
    /// that excludes one here — a placement known to fail at its walltime or shorter, a limit, a fair-share
    /// refusal — only grows within the decision. Each visited job is tested again when its turn comes.</summary>
    private void ForEachJobThatMayAct(Account project, bool heldAtShare, Func<Account, Job, bool> step)
    {
        // A job that may not borrow can start inside the guarantee by making younger jobs borrowers, which gives
        // the project's other jobs guarantee room back: borrowers are then refused only if no such job may act.
        if (CollectJobsThatMayAct(project, heldAtShare) && heldAtShare) CollectJobsThatMayAct(project, refuseBorrowers: false);
        if (_mayAct.Count > 1) _mayAct.Sort(JobOrder.Instance);
        foreach (var job in _mayAct)
        {
            _visited++;
            step(project, job);
        }
    }

    /// <summary>Fills <see cref="_mayAct"/>; returns whether a job that may not borrow was among them.</summary>
    private bool CollectJobsThatMayAct(Account project, bool refuseBorrowers)
    {
        _mayAct.Clear();
        var mayNotBorrow = false;
        // A proof carried from earlier decisions covers every high group (see PriorityPreemptionPossible).
        var priority = project.PriorityPreemption && !NoPriorityPreemptionCarried(project);
        var forced = ForcedBorrower(project);
        foreach (var (shape, group) in project.Queue.Groups)
        {
            // A job waiting for its victims places ignoring its own claims: it is visited whatever the proofs.
            var reclaim = group.ReclaimStamp == _stamp;
            var blocked = GroupProvenBlocked(project, shape, group);
            if (blocked && !reclaim) continue;
            if (reclaim)
            {
                foreach (var r in _reclaimers)
                    if (r.Group == group && r.ReclaimNodes is not null) Add(r);
            }
            if (blocked) continue;
            // A high job may displace a low one of its project unless that search failed on every type.
            var high = priority && group.High > 0 && !PriorityFailedOnEveryType(project, shape);
            // Held at its fair share, a job that may borrow and fits no guarantee is refused as a borrower.
            var borrowersRefused = refuseBorrowers && (forced || !MayBeGuaranteed(project, shape));
            if (borrowersRefused && group.MayNotBorrow == 0 && !high) continue;
            var fitsBelow = LongestWalltimeNotBlocked(project, shape);
            // High jobs come first in queue order.
            for (var i = 0; high && i < group.Jobs.Count && group.Jobs[i].Spec.Priority == JobPriority.High; i++)
            {
                var job = group.Jobs[i];
                if (job.ReclaimNodes is null && !(borrowersRefused && !job.MayNotBorrow)) Add(job, job.WalltimeTicks < fitsBelow);
            }
            foreach (var job in group.ByWalltime)
            {
                if (job.WalltimeTicks >= fitsBelow) break;
                if (job.ReclaimNodes is not null || (high && job.Spec.Priority == JobPriority.High) || (borrowersRefused && !job.MayNotBorrow)) continue;
                Add(job);
            }
        }
        return mayNotBorrow;

        // Only a start (not a priority preemption) makes younger jobs borrowers.
        void Add(Job job, bool mayStart = true)
        {
            mayNotBorrow |= job.MayNotBorrow && mayStart;
            _mayAct.Add(job);
        }
    }

    private bool PriorityFailedOnEveryType(Account project, ShapeKey shape)
    {
        for (var (t, end) = TypesOf(shape); t < end; t++)
            if (!_priorityFailed.Contains((project.Index, shape with { Type = t }))) return false;
        return true;
    }

    /// <summary>The walltime from which every job of the shape is known not to fit now on any type it may use
    /// (long.MaxValue: none is known not to fit). Types refused by a limit count as no fit.</summary>
    private long LongestWalltimeNotBlocked(Account project, ShapeKey shape)
    {
        var gpus = shape.GpusPerNode * shape.Nodes;
        var below = 0L;
        for (var (t, end) = TypesOf(shape); t < end; t++)
        {
            if (LimitBlocker(project, t, gpus) is not null || _cluster.CountWithFree(t, shape.GpusPerNode) < shape.Nodes) continue;
            below = Math.Max(below, _placeFailedAt.TryGetValue(shape with { Type = t }, out var failedAt) ? failedAt : long.MaxValue);
        }
        return below;
    }

    private readonly List<(ShapeGroup Group, int Next)> _open = [];

    /// <summary>Visits, in queue order, the jobs of the project's groups still open when its turn comes — a group
    /// closed then stays closed for the rest of the decision (so the step would pass over each of its jobs
    /// without effect anyway), as does one proven blocked meanwhile. A step returns true when it started the job
    /// (which leaves its group, so the same index then holds the group's next job).</summary>
    private void ForEachOpenGroupJob(Account project, Func<Account, ShapeKey, ShapeGroup, bool> open, Func<Account, Job, bool> step)
    {
        _open.Clear();
        foreach (var (shape, group) in project.Queue.Groups)
            if (open(project, shape, group)) _open.Add((group, 0));
        while (true)
        {
            var first = -1;
            for (var i = 0; i < _open.Count; i++)
            {
                var (group, next) = _open[i];
                if (next >= group.Jobs.Count || (group.BlockedStamp == _stamp && group.ReclaimStamp != _stamp)) continue;
                if (first < 0 || JobOrder.Instance.Compare(group.Jobs[next], _open[first].Group.Jobs[_open[first].Next]) < 0) first = i;
            }
            if (first < 0) return;
            var (g, n) = _open[first];
            _visited++;
            if (!step(project, g.Jobs[n])) _open[first] = (g, n + 1);
        }
    }
}
