using System.Runtime.InteropServices;
using Mekong.Policy.Accounts;
using Mekong.Policy.Jobs;
using Mekong.Policy.Placement;

namespace Mekong.Policy;

/// <summary>The scheduling pass, in phases: order → admit → place → preempt → reserve → backfill → explain.</summary>
/// <remarks>
/// Two sweeps over the projects in fair-share order. The first starts jobs that fit inside their accounts'
/// guarantees, reclaiming lent capacity by preemption where needed (Kueue likewise admits workloads that fit
/// their nominal quota before borrowers). The second lets the remaining jobs borrow idle capacity: the
/// highest-ranked blocked jobs take reservations, and every later job may start only where it leaves every
/// reservation whole (conservative backfill).
/// A full pass visits every pending job and writes its explanation. An incremental decision runs the same
/// sweeps but skips a project when it can prove that none of its jobs could change anything — each shape
/// group is known to fail (failures are monotone within a decision: free capacity only shrinks and claims
/// only grow) and no reservation is left to hand out — so both make the same starts and preemptions.
/// </remarks>
public sealed partial class PolicyEngine
{
    /// <summary>Per shape, the shortest walltime known this decision not to fit now: every job of the shape
    /// with this walltime or longer fails too (capacity only shrinks and claims only grow within a decision).</summary>
    private readonly Dictionary<ShapeKey, long> _placeFailedAt = [];
    private readonly HashSet<ShapeKey> _reclaimFailed = [];
    private readonly HashSet<(int Project, ShapeKey Shape)> _reclaimFailedFor = [];
    private readonly HashSet<(int Project, ShapeKey Shape)> _priorityFailed = [];
    private readonly List<int> _priorityNodes = [];

    /// <summary>Pending jobs whose victims are stopping for them, in id order.</summary>
    private readonly SortedSet<JobId> _reclaiming = [];
    private readonly List<JobId> _dropped = [];

    /// <summary>Per account: the decision in which the project had a job waiting for victims (never skipped then).</summary>
    private int[] _waitingStamp = [];

    /// <summary>Per account: the decision in which one of its waiting jobs had a node with its share free.</summary>
    private int[] _readyStamp = [];
    /// <summary>Per type and GPUs per node: nodes big enough, registered and up (counted again when a node is
    /// added or changes shape or state: <see cref="Cluster.ClusterState.ShapeVersion"/>).</summary>
    private readonly (long Version, int Registered, int Up)[]?[] _nodeCounts = new (long, int, int)[]?[GpuTypeTable.MaxTypes];
    private readonly List<JobStart> _starts = [];
    private readonly List<JobPreemption> _preemptions = [];
    private double[] _overuse = [];
    private int _stamp;
    private int _visited;
    private int _projectsSkipped;

    /// <summary>Full pass: decides, and explains every pending job.</summary>
    public SchedulingPlan Schedule() => Run(full: true);

    /// <summary>Incremental decision after an event: the same starts and preemptions as a full pass, without
    /// visiting jobs that provably cannot start. Explanations of skipped jobs keep their last full-pass value.</summary>
    public SchedulingPlan Decide() => Run(full: false);

    // The steps as delegates made once (a lambda per project would allocate in every decision); they read the
    // decision's time and the project's fair-share state from these fields.
    private long _now;
    private bool _heldAtShare;
    private Func<Account, Job, bool>? _guaranteedStep, _borrowingStep, _borrowingStepUnlessProven;
    private Func<Account, ShapeKey, ShapeGroup, bool>? _mayBeGuaranteed, _openForBorrowing;

    private SchedulingPlan Run(bool full)
    {
        var now = _now = NowTicks;
        _guaranteedStep ??= (project, job) => GuaranteedStep(project, job, _now);
        _borrowingStep ??= (project, job) => BorrowingStep(project, job, _now);
        _borrowingStepUnlessProven ??= (project, job) => !JobProvenBlocked(project, job, budgetHeld: false) && BorrowingStep(project, job, _now);
        _mayBeGuaranteed ??= (project, shape, _) => MayBeGuaranteed(project, shape);
        // A job waiting for its victims places ignoring its own claims: its group is visited whatever its proofs.
        _openForBorrowing ??= (project, shape, group) => group.ReclaimStamp == _stamp
            || (!(_heldAtShare && OnlyBorrowers(project, shape)) && !GroupProvenBlocked(project, shape, group));

        // Phase 1 — order: bring usage up to now and rank the tree.
        _accounts.AccrueAll(now);
        _fairTree.Compute(_accounts);
        BeginDecision();
        ReclaimOutstanding(now);
        if (!full) MarkReclaimerGroups();

        // Phase 2 — guaranteed jobs, with reclaim by preemption.
        foreach (var p in _fairTree.Order)
        {
            var project = _accounts[p];
            if (project.Queue.Count == 0) continue;
            if (!full && _readyStamp[p] != _stamp && !MayHaveGuaranteedJob(project)) { _projectsSkipped++; continue; }
            if (!full && GuaranteedProvenBlocked(project, now)) { _projectsSkipped++; continue; }
            // A job outside its guarantee on every type passes this phase without effect: a decision visits
            // only the groups that might be inside it.
            if (full) ForEachQueued(project, _guaranteedStep);
            else ForEachOpenGroupJob(project, _mayBeGuaranteed, _guaranteedStep);
        }

        // Phase 3 — borrowing jobs: reservations for the top blocked, then backfill around them.
        foreach (var p in BorrowingOrder())
        {
            var project = _accounts[p];
            if (project.Queue.Count == 0) continue;
            if (!full && (FairShareProvenBlocked(project) || NotACandidate(project, now) || ProvenBlocked(project, now))) { _projectsSkipped++; continue; }
            if (full) ForEachQueued(project, _borrowingStep);
            else if (BudgetBlocker(project) is { Budget.OnExhausted: BudgetAction.Hold })
            {
                // Every job of a held project is proven blocked (see JobProvenBlocked).
            }
            else
            {
                _heldAtShare = FairShareBlocker(project) is not null;
                if (_book.Counted >= Settings.Reservations) ForEachJobThatMayAct(project, _heldAtShare, _borrowingStepUnlessProven);
                else ForEachOpenGroupJob(project, _openForBorrowing, _borrowingStepUnlessProven);
            }
        }

        var plan = new SchedulingPlan(
            new DateTimeOffset(now, TimeSpan.Zero),
            [.. _starts],
            [.. _preemptions],
            [.. _book.Reservations],
            new PassStatistics(full, _pendingCount, _visited, _projectsSkipped, _placer.Attempts));
        return plan;
    }

    private readonly List<int> _borrowOrder = [];
    private int[] _rank = [];
    private int[] _rankStamp = [];
    private double[] _held = [];
    private Comparison<int>? _byHeldOverEntitled;

    /// <summary>Phase 3's project order when fair-share-aware borrowing is on: projects by GPUs held over their
    /// entitled share (see <see cref="FairShare.EntitledShares"/>), the most under-served first, ties in
    /// fair-share order. The decayed-usage order still decides the guaranteed sweep; the borrowing sweep — who
    /// gets idle capacity and the reservations — follows what each project holds now against what it is
    /// entitled to now, so a project waiting with nothing running is not passed over by one already above its
    /// share. Holdings and entitlements are read once, when the sweep begins, so Decide() and Schedule() agree.</summary>
    private List<int> BorrowingOrder()
    {
        if (Settings.BorrowBeyondFairShare <= 0)
        {
            _borrowOrder.Clear();
            _borrowOrder.AddRange(_fairTree.Order);
            return _borrowOrder;
        }
        EnsureEntitled();
        if (_rank.Length < _accounts.Count) { _rank = new int[_accounts.Count * 2]; _held = new double[_rank.Length]; _rankStamp = new int[_rank.Length]; }
        var order = _fairTree.Order;
        for (var i = 0; i < order.Count; i++)
        {
            var p = order[i];
            _rank[p] = i;
            _rankStamp[p] = _stamp;
            var entitled = _entitled[p];
            var held = _accounts[p].GpuRate;
            _held[p] = entitled > 0 ? held / entitled : held > 0 ? double.PositiveInfinity : 0;
        }
        _byHeldOverEntitled ??= (x, y) =>
        {
            var c = _held[x].CompareTo(_held[y]);
            return c != 0 ? c : _rank[x].CompareTo(_rank[y]);
        };
        // One event moves few projects: the last decision's order, re-sorted by insertion, is nearly in place.
        // The comparison is a total order (ties go by rank), so any sort gives the same order.
        var same = _borrowOrder.Count == order.Count;
        for (var i = 0; same && i < _borrowOrder.Count; i++) same = _rankStamp[_borrowOrder[i]] == _stamp;
        if (!same)
        {
            _borrowOrder.Clear();
            _borrowOrder.AddRange(order);
            _borrowOrder.Sort(_byHeldOverEntitled);
            return _borrowOrder;
        }
        var span = CollectionsMarshal.AsSpan(_borrowOrder);
        var budget = 8L * span.Length; // past this many moves the order changed a lot: sort it outright
        for (var i = 1; i < span.Length; i++)
        {
            var p = span[i];
            var j = i - 1;
            for (; j >= 0 && _byHeldOverEntitled(span[j], p) > 0; j--) span[j + 1] = span[j];
            span[j + 1] = p;
            budget -= i - 1 - j;
            if (budget < 0) { _borrowOrder.Sort(_byHeldOverEntitled); break; }
        }
        return _borrowOrder;
    }

    private void BeginDecision()
    {
        _stamp++;
        _book.Reset(_cluster.Count);
        _placeFailedAt.Clear();
        _reclaimFailed.Clear();
        _reclaimFailedFor.Clear();
        _priorityFailed.Clear();
        _promised.Clear();
        _starts.Clear();
        _preemptions.Clear();
        _placer.ResetCounters();
        _visited = 0;
        _projectsSkipped = 0;
        if (_overuse.Length < _accounts.Count) _overuse = new double[_accounts.Count * 2];
        if (_waitingStamp.Length < _accounts.Count) _waitingStamp = new int[_accounts.Count * 2];
        if (_readyStamp.Length < _accounts.Count) _readyStamp = new int[_accounts.Count * 2];
        Array.Fill(_overuse, double.NaN);
    }

    /// <summary>Visits the project's queue in order. A step returns true when it started the job (which
    /// leaves the queue, so the same index then holds the next job).</summary>
    private void ForEachQueued(Account project, Func<Account, Job, bool> step)
    {
        var jobs = project.Queue.Jobs;
        for (var i = 0; i < jobs.Count;)
        {
            _visited++;
            if (step(project, jobs[i])) continue;
            i++;
        }
    }

    // ------------------------------------------------------------ phase 2

    private bool GuaranteedStep(Account project, Job job, long now)
    {
        if (job.Held || ForcedBorrower(project)) return false;
        var first = -1;
        for (var t = FirstType(job); t >= 0; t = NextType(job, t))
        {
            if (!WithinGuarantee(project, t, job.TotalGpus) || LimitBlocker(project, t, job.TotalGpus) is not null) continue;
            if (first < 0) first = t;
            if (TryStartNow(job, t, borrowing: false, now)) return true;
        }
        if (first < 0) return false;

        // Reclaim: a guaranteed job that does not fit preempts borrowers. A job dealt with here (reclaim,
        // priority preemption, reservation) is skipped by phase 3; one that got nothing goes on to phase 3,
        // where it may still borrow another GPU type or take a reservation — so phase 2 has no side
        // effect for it, which is what lets a decision skip a project proven blocked in phase 2.
        for (var t = first; t >= 0; t = NextType(job, t))
        {
            if (!WithinGuarantee(project, t, job.TotalGpus) || LimitBlocker(project, t, job.TotalGpus) is not null) continue;
            if (TryReclaim(job, t, now)) { MarkHandled(job); return false; }
        }
        if (project.PriorityPreemption && job.Spec.Priority == JobPriority.High && TryPriorityPreemption(project, job, first, now))
        {
            MarkHandled(job);
            return false;
        }
        if (ReserveOrExplain(job, first, now)) MarkHandled(job);
        return false;
    }

    // ------------------------------------------------------------ phase 3

    private bool BorrowingStep(Account project, Job job, long now)
    {
        if (IsHandled(job)) return false;
        if (job.Held)
        {
            job.Reason = PendingReason.Of(PendingReasonKind.Held, job.Project, job.Type, job.TotalGpus);
            return false;
        }
        if (BudgetBlocker(project) is { Budget.OnExhausted: BudgetAction.Hold } spent)
        {
            job.Reason = BudgetReason(job, spent);
            return false;
        }

        PendingReason? reason = null;
        var admitted = -1;
        for (var t = FirstType(job); t >= 0; t = NextType(job, t))
        {
            if (ShapeReason(job, t) is { } shapeReason) { reason ??= shapeReason; continue; }
            if (LimitBlocker(project, t, job.TotalGpus) is { } blocker) { reason ??= QuotaReason(job, blocker, t); continue; }
            var guaranteed = !ForcedBorrower(project) && WithinGuarantee(project, t, job.TotalGpus);
            var displacing = false;
            if (!guaranteed && !CanBorrow(job))
            {
                // A job that may only run inside the guarantee takes it ahead of its project's younger jobs.
                if (ForcedBorrower(project) || YoungerWithinToYield(project, job, t) < 0) { reason ??= NoBorrowReason(job, project, t); continue; }
                guaranteed = displacing = true;
            }
            // Capacity preempted for a job is that job's: the fair-share rule, which keeps a project from borrowing
            // more idle capacity, does not take it back (its victims were borrowers, or the project's own jobs).
            if (!guaranteed && job.ReclaimNodes is null && FairShareBlockerFor(project, job.TotalGpus) is { } over) { reason ??= FairShareReason(job, over); continue; }
            if (admitted < 0) admitted = t;
            if (displacing)
            {
                // The yield is decided before placing: it frees no GPUs, only guarantee room.
                var need = YoungerWithinToYield(project, job, t);
                if (!TryStartNow(job, t, borrowing: false, now, yieldWithin: need)) continue;
                return true;
            }
            if (TryStartNow(job, t, borrowing: !guaranteed, now)) return true;
        }
        if (admitted < 0)
        {
            job.Reason = reason ?? PendingReason.Of(PendingReasonKind.NodeTypeUnavailable, job.Project, job.Type, job.TotalGpus);
            return false;
        }
        if (project.PriorityPreemption && job.Spec.Priority == JobPriority.High && TryPriorityPreemption(project, job, admitted, now))
            return false;
        ReserveOrExplain(job, admitted, now);
        return false;
    }

    // ------------------------------------------------------------ place, reserve, explain

    private bool TryStartNow(Job job, int type, bool borrowing, long now, int yieldWithin = 0)
    {
        var request = PlacementRequest.For(job, type);
        if (job.ReclaimNodes is not null) return TryStartReclaimer(job, type, borrowing, request, now, yieldWithin);
        var key = job.Shape with { Type = type };
        if (_placeFailedAt.TryGetValue(key, out var failedAt) && failedAt <= job.WalltimeTicks) return false;
        if (!_placer.TryPlaceNow(request, now))
        {
            RememberPlacementFailure(key, job.WalltimeTicks);
            return false;
        }
        if (yieldWithin > 0) YieldWithin(_accounts[job.Project], job, type, yieldWithin, now);
        Start(job, type, borrowing, request, now);
        return true;
    }

    /// <summary>After a failed placement: the placer says how long a job of this shape could run and still
    /// fit, so anything longer fails too (for the rest of the decision: capacity only shrinks, claims only grow).</summary>
    private void RememberPlacementFailure(ShapeKey key, long walltime)
    {
        var longest = _placer.LongestFittingWalltime;
        var fails = longest == long.MaxValue ? walltime : Math.Min(walltime, longest + 1);
        _placeFailedAt[key] = _placeFailedAt.TryGetValue(key, out var known) ? Math.Min(known, fails) : fails;
    }

    /// <summary>A job waiting for its victims places ignoring its own claims (the capacity is its own);
    /// it neither reads nor feeds the shape memo, which speaks for jobs without such claims.</summary>
    private bool TryStartReclaimer(Job job, int type, bool borrowing, in PlacementRequest request, long now, int yieldWithin)
    {
        _book.Ignoring = job.Id;
        // First where its victims were (the capacity held for it), then anywhere.
        var placed = _placer.TryPlaceOn(request, job.ReclaimNodes!, now) || _placer.TryPlaceNow(request, now);
        _book.Ignoring = default;
        if (!placed) return false;
        if (yieldWithin > 0) YieldWithin(_accounts[job.Project], job, type, yieldWithin, now);
        // Its claims go only where it now runs: a claim left elsewhere keeps holding what it held, so
        // nothing this decision already proved unplaceable becomes placeable.
        _book.Release(job.Id, [.. _placer.Chosen.Intersect(job.ReclaimNodes!)]);
        Start(job, type, borrowing, request, now);
        return true;
    }

    private void Start(Job job, int type, bool borrowing, in PlacementRequest request, long now)
    {
        var nodes = _placer.Chosen.ToArray();
        var masks = new ulong[nodes.Length];
        var allocations = new NodeAllocation[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            masks[i] = _cluster.TakeGpus(nodes[i], request.GpusPerNode);
            allocations[i] = new NodeAllocation(_cluster.NameOf(nodes[i]), masks[i]);
        }
        StartRunning(job, type, nodes, masks, borrowing, now, fromQueue: true);
        job.Reason = default;
        _starts.Add(new JobStart(job.Id, allocations, _types.NameOf(type), borrowing));
    }

    /// <summary>Gives the job a reservation if one is left to hand out and its shape can be met; otherwise
    /// explains why it waits. Returns whether it got a reservation.</summary>
    private bool ReserveOrExplain(Job job, int type, long now)
    {
        var request = PlacementRequest.For(job, type);
        if (_book.Counted < Settings.Reservations)
        {
            var start = _placer.EarliestStart(request, now);
            if (start != long.MaxValue)
            {
                var nodes = CollectionsMarshal.AsSpan(_placer.Chosen);
                _book.Add(ReservationFor(job, start, nodes, request.GpusPerNode, type),
                    nodes, start, start + request.Walltime, request.GpusPerNode, request.Cpu, request.Memory, counted: true);
                job.Reason = new PendingReason(PendingReasonKind.Reserved, job.Project, type, job.TotalGpus, 0, 0, start, 0);
                return true;
            }
        }
        // Capacity exists but reservations hold it: the job waits on priority; otherwise on resources.
        if (_cluster.CountWithFree(type, request.GpusPerNode) >= request.Nodes && _book.Reservations.Count > 0)
        {
            job.Reason = new PendingReason(PendingReasonKind.Priority, job.Project, type, job.TotalGpus,
                _cluster.MaxFree(type), _cluster.MaxGpusOfType(type), 0, _book.Reservations[0].Job.Value);
            return false;
        }
        job.Reason = PendingReason.Of(PendingReasonKind.Resources, job.Project, type, job.TotalGpus,
            _cluster.MaxFree(type), _cluster.MaxGpusOfType(type));
        return false;
    }

    /// <summary>Explains shapes no up node can take: no such type up, or more than the cluster has.</summary>
    private PendingReason? ShapeReason(Job job, int type)
    {
        var g = job.Spec.GpusPerNode;
        var perType = _nodeCounts[type];
        if (perType is null || perType.Length <= g)
        {
            perType = _nodeCounts[type] = new (long, int, int)[Math.Max(g + 1, 9)];
            Array.Fill(perType, (-1L, 0, 0));
        }
        if (perType[g].Version != _cluster.ShapeVersion)
        {
            int registered = 0, up = 0;
            var nodes = _cluster.NodesOfType(type);
            for (var i = 0; i < nodes.Count; i++)
            {
                var n = nodes[i];
                if (_cluster.GpusOf(n) < g) continue;
                registered++;
                if (_cluster.StateOf(n) == NodeState.Up) up++;
            }
            perType[g] = (_cluster.ShapeVersion, registered, up);
        }
        var counts = perType[g];
        if (_cluster.UpGpusOfType(type) == 0)
            return PendingReason.Of(PendingReasonKind.NodeTypeUnavailable, job.Project, type, job.TotalGpus);
        if (counts.Registered < job.Spec.Nodes)
            return PendingReason.Of(PendingReasonKind.Unsatisfiable, job.Project, type, job.TotalGpus, counts.Registered, job.Spec.Nodes);
        if (counts.Up < job.Spec.Nodes)
            return PendingReason.Of(PendingReasonKind.NodeTypeUnavailable, job.Project, type, job.TotalGpus, counts.Up, job.Spec.Nodes);
        return null;
    }

    private int FirstType(Job job) => job.Type >= 0 ? job.Type : (_types.Count > 0 ? 0 : -1);

    private int NextType(Job job, int type) => job.Type >= 0 || type + 1 >= _types.Count ? -1 : type + 1;

    private void MarkHandled(Job job) => job.HandledStamp = _stamp;

    private bool IsHandled(Job job) => job.HandledStamp == _stamp;

    private Reservation ReservationFor(Job job, long start, ReadOnlySpan<int> nodes, int gpusPerNode, int type) =>
        new(job.Id, new DateTimeOffset(start, TimeSpan.Zero), NodeNames(nodes), gpusPerNode, _types.NameOf(type));

    private string[] NodeNames(ReadOnlySpan<int> nodes)
    {
        var names = new string[nodes.Length];
        for (var i = 0; i < nodes.Length; i++) names[i] = _cluster.NameOf(nodes[i]);
        return names;
    }
}
