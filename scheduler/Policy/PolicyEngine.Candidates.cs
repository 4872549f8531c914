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
        return !PriorityPreemptionPossible(project, now);
    }

    /// <summary>Whether a group that made the project a candidate might still start a job at its turn: earlier
    /// projects' starts may since have taken the room (or reached a limit). The project's other groups were
    /// already blocked when marked, so if none of these may fit, the project is blocked.</summary>
    /// <summary>Stamps the groups of the jobs still waiting for their victims (after <see cref="ReclaimOutstanding"/>
    /// has dropped those whose nodes no longer hold them).</summary>
    private void MarkReclaimerGroups()
    {
        foreach (var id in _reclaiming)
            if (_jobs.TryGetValue(id, out var job) && job.ReclaimNodes is not null && job.Group is { } group) group.ReclaimStamp = _stamp;
    }

    /// <summary>Phase 2's open groups: some type would keep every account on the path within its guarantee
    /// with one of its jobs included (guarantee headroom only shrinks within a decision).</summary>
    private bool MayBeGuaranteed(Account project, ShapeKey shape)
    {
        var gpus = shape.GpusPerNode * shape.Nodes;
        for (var (t, end) = TypesOf(shape); t < end; t++)
            if (GuaranteeHeadroom(project, t) >= gpus) return true;
        return false;
    }

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
    private long ShortestNotFitting(ShapeKey typed, SortedSet<(long MinWalltime, int Project)> groups, long now)
    {
        if (_cluster.CountWithFree(typed.Type, typed.GpusPerNode) < typed.Nodes) return 0;
        var known = _placeFailedAt.TryGetValue(typed, out var failedAt) ? failedAt : long.MaxValue;
        if (groups.Min.MinWalltime >= known) return known;
        var probe = Math.Min(groups.Max.MinWalltime, known - 1);
        var request = new PlacementRequest(typed.Type, typed.Nodes, typed.GpusPerNode, typed.Cpu, typed.Memory, probe);
        if (_placer.TryPlaceNow(request, now)) return known;
        RememberPlacementFailure(typed, probe);
        return _placeFailedAt[typed];
    }

    private readonly List<(ShapeGroup Group, int Next)> _open = [];

    /// <summary>Visits, in queue order, the jobs of the project's groups still open when its turn comes — a group
    /// closed then stays closed for the rest of the decision (so the step would pass over each of its jobs
    /// without effect anyway), as does one proven blocked meanwhile. A step returns true when it started the job
    /// (which leaves its group, so the same index then holds the group's next job).</summary>
    private void ForEachOpenGroupJob(Account project, Func<ShapeKey, ShapeGroup, bool> open, Func<Job, bool> step)
    {
        _open.Clear();
        foreach (var (shape, group) in project.Queue.Groups)
            if (open(shape, group)) _open.Add((group, 0));
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
            if (!step(g.Jobs[n])) _open[first] = (g, n + 1);
        }
    }
}
