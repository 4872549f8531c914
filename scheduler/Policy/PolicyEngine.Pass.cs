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
    /// <summary>Per type and GPUs per node: nodes big enough, registered and up (computed once per decision).</summary>
    private readonly (int Stamp, int Registered, int Up)[]?[] _nodeCounts = new (int, int, int)[]?[GpuTypeTable.MaxTypes];
    private readonly List<JobStart> _starts = [];
    private readonly List<JobPreemption> _preemptions = [];
    private double[] _overuse = [];
    private int _stamp;
    private int _visited;
    private int _groupsSkipped;

    /// <summary>Full pass: decides, and explains every pending job.</summary>
    public SchedulingPlan Schedule() => Run(full: true);

    /// <summary>Incremental decision after an event: the same starts and preemptions as a full pass, without
    /// visiting jobs that provably cannot start. Explanations of skipped jobs keep their last full-pass value.</summary>
    public SchedulingPlan Decide() => Run(full: false);

    private SchedulingPlan Run(bool full)
    {
        var now = NowTicks;

        // Phase 1 — order: bring usage up to now and rank the tree.
        _accounts.AccrueAll(now);
        _fairTree.Compute(_accounts);
        BeginDecision();
        ReclaimOutstanding(now);

        // Phase 2 — guaranteed jobs, with reclaim by preemption.
        foreach (var p in _fairTree.Order)
        {
            var project = _accounts[p];
            if (project.Queue.Count == 0) continue;
            if (!full && _readyStamp[p] != _stamp && !MayHaveGuaranteedJob(project)) { _groupsSkipped++; continue; }
            if (!full && GuaranteedProvenBlocked(project, now)) { _groupsSkipped++; continue; }
            ForEachQueued(project, job => GuaranteedStep(project, job, now));
        }

        // Phase 3 — borrowing jobs: reservations for the top blocked, then backfill around them.
        foreach (var p in _fairTree.Order)
        {
            var project = _accounts[p];
            if (project.Queue.Count == 0) continue;
            if (!full && ProvenBlocked(project, now)) { _groupsSkipped++; continue; }
            if (full) ForEachQueued(project, job => BorrowingStep(project, job, now));
            else
            {
                var held = BudgetBlocker(project) is { Budget.OnExhausted: BudgetAction.Hold };
                ForEachQueued(project, job => !JobProvenBlocked(project, job, held) && BorrowingStep(project, job, now));
            }
        }

        var plan = new SchedulingPlan(
            new DateTimeOffset(now, TimeSpan.Zero),
            [.. _starts],
            [.. _preemptions],
            [.. _book.Reservations],
            new PassStatistics(full, _pendingCount, _visited, _groupsSkipped, _placer.Attempts));
        return plan;
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
        _groupsSkipped = 0;
        if (_overuse.Length < _accounts.Count) _overuse = new double[_accounts.Count * 2];
        if (_waitingStamp.Length < _accounts.Count) _waitingStamp = new int[_accounts.Count * 2];
        if (_readyStamp.Length < _accounts.Count) _readyStamp = new int[_accounts.Count * 2];
        Array.Fill(_overuse, double.NaN);
    }

    /// <summary>Visits the project's queue in order. A step returns true when it started the job (which
    /// leaves the queue, so the same index then holds the next job).</summary>
    private void ForEachQueued(Account project, Func<Job, bool> step)
    {
        var jobs = project.Queue.Jobs;
        for (var i = 0; i < jobs.Count;)
        {
            _visited++;
            if (step(jobs[i])) continue;
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

    /// <summary>Guarantee reclaim preempts across accounts only: victims are other projects' borrowing jobs
    /// (a project's own jobs yield to its high jobs through priority preemption alone).</summary>
    private bool TryReclaim(Job job, int type, long now)
    {
        var request = PlacementRequest.For(job, type);
        var key = job.Shape with { Type = type };
        if (ResumeReclaim(job, type, promise: true)) return true;
        // A search that fails with more victims allowed fails with fewer: the shape-wide memo holds searches
        // that excluded nothing (no displacers, no borrower of the job's own project), and speaks for every job.
        if (_reclaimFailed.Contains(key) || _reclaimFailedFor.Contains((job.Project, key))) return false;
        var project = job.Project;
        var found = _victims.Find(request, now,
            v => v.Status == JobStatus.Running && v.Borrowing && v.Project != project && !(job.DisplacedBy?.Contains(v.Id) ?? false),
            v => Overuse(v.Project));
        if (!found)
        {
            if (job.DisplacedBy is null && !HasRunningBorrower(_accounts[project], type)) _reclaimFailed.Add(key);
            else if (job.DisplacedBy is null) _reclaimFailedFor.Add((project, key));
            return false;
        }
        ApplyPreemption(job, type, PreemptionKind.GuaranteeReclaim, request, now);
        return true;
    }

    private static bool HasRunningBorrower(Account project, int type)
    {
        foreach (var j in project.Running)
            if (j.Borrowing && j.Status == JobStatus.Running && j.AllocatedType == type) return true;
        return false;
    }

    private void ApplyPreemption(Job job, int type, PreemptionKind kind, in PlacementRequest request, long now)
    {
        foreach (var victim in _victims.Victims)
        {
            victim.Status = JobStatus.Terminating;
            victim.Requeue = true;
            _ends.SetKill(victim, now + victim.Spec.GracePeriod.Ticks);
            (victim.DisplacedBy ??= []).Add(job.Id);
            _preemptions.Add(new JobPreemption(victim.Id, job.Id, kind, victim.Spec.GracePeriod));
        }
        if (kind == PreemptionKind.GuaranteeReclaim) PromiseGuarantee(job, type);
        int[] nodes = [.. _victims.Nodes];
        if (_victims.Victims.Count > 0)
        {
            // Jobs were stopped for this one: what they vacate is its own until it starts.
            job.ReclaimNodes = nodes;
            job.ReclaimType = type;
            _reclaiming.Add(job.Id);
        }
        // Otherwise it only waits for jobs already stopping: it holds them for this decision alone.
        ClaimReclaimed(job, request, nodes, _victims.ReadyTicks);
    }

    /// <summary>The job holds the nodes its victims are vacating until their grace periods end.</summary>
    private void ClaimReclaimed(Job job, in PlacementRequest request, int[] nodes, long ready)
    {
        _book.Add(new Reservation(job.Id, new DateTimeOffset(ready, TimeSpan.Zero), NodeNames(nodes), request.GpusPerNode, _types.NameOf(request.Type)),
            nodes, ready, ready + request.Walltime, request.GpusPerNode, request.Cpu, request.Memory, counted: false);
        job.Reason = new PendingReason(PendingReasonKind.Reserved, job.Project, request.Type, job.TotalGpus, 0, 0, ready, 0);
    }

    /// <summary>Capacity preempted for a job is that job's: at the start of every decision, each job still
    /// waiting for its victims re-claims their nodes (in id order), before any other job is considered —
    /// as long as the nodes are up and what is free plus what is stopping there still fits it.</summary>
    private void ReclaimOutstanding(long now)
    {
        _dropped.Clear();
        foreach (var id in _reclaiming)
        {
            if (!_jobs.TryGetValue(id, out var job) || job.Status != JobStatus.Pending || job.ReclaimNodes is not { } nodes)
            {
                _dropped.Add(id);
                continue;
            }
            var request = PlacementRequest.For(job, job.ReclaimType);
            var ready = now;
            var valid = true;
            foreach (var n in nodes)
            {
                if (_cluster.StateOf(n) != NodeState.Up) { valid = false; break; }
                int gpus = _cluster.FreeGpus(n), cpu = _cluster.FreeCpu(n);
                var memory = _cluster.FreeMemory(n);
                foreach (var t in _cluster.Tenants(n))
                {
                    if (t.Job.Status != JobStatus.Terminating) continue;
                    gpus += t.Gpus;
                    cpu += t.Cpu;
                    memory += t.Memory;
                    ready = Math.Max(ready, t.Job.KillTicks);
                }
                if (gpus < request.GpusPerNode || cpu < request.Cpu || memory < request.Memory) { valid = false; break; }
            }
            if (!valid)
            {
                job.ReclaimNodes = null;
                _dropped.Add(id);
                continue;
            }
            ClaimReclaimed(job, request, nodes, ready);
            _waitingStamp[job.Project] = _stamp;
            // While none of its nodes has its share free, the job's own claims give it no room anywhere, so
            // what is proven about its shape holds for it too; once one has, its project is visited job by job.
            if (AnyNodeReady(nodes, request)) _readyStamp[job.Project] = _stamp;
        }
        foreach (var id in _dropped) _reclaiming.Remove(id);
    }

    private bool AnyNodeReady(int[] nodes, in PlacementRequest request)
    {
        foreach (var n in nodes)
            if (_cluster.FreeGpus(n) >= request.GpusPerNode && _cluster.FreeCpu(n) >= request.Cpu && _cluster.FreeMemory(n) >= request.Memory) return true;
        return false;
    }

    /// <summary>A job waiting for its victims already holds its claim (see <see cref="ReclaimOutstanding"/>).
    /// A reclaiming job keeps its guarantee room too (see <see cref="PromiseGuarantee"/>).</summary>
    private bool ResumeReclaim(Job job, int type, bool promise)
    {
        if (job.ReclaimNodes is null || job.ReclaimType != type) return false;
        if (promise) PromiseGuarantee(job, type);
        return true;
    }

    /// <summary>How far the project is over its fair share: its fraction of all usage over its entitled
    /// fraction (the product of normalised shares down its path). Higher is preempted first.</summary>
    private double Overuse(int project)
    {
        var cached = _overuse[project];
        if (!double.IsNaN(cached)) return cached;
        var root = _accounts.Root.DecayedUsage;
        var entitled = 1.0;
        var a = _accounts[project];
        while (a.Index != 0)
        {
            var parent = _accounts[a.Parent];
            long siblings = 0;
            foreach (var c in parent.Children) siblings += _accounts[c].Shares;
            entitled *= (double)a.Shares / siblings;
            a = parent;
        }
        var used = root > 0 ? _accounts[project].DecayedUsage / root : 0;
        return _overuse[project] = used / entitled;
    }

    /// <summary>Whether any queued job of the project could be inside its guarantee (cheap, per shape group).</summary>
    private bool MayHaveGuaranteedJob(Account project)
    {
        if (ForcedBorrower(project)) return false;
        foreach (var (shape, _) in project.Queue.Groups)
        {
            var gpus = shape.GpusPerNode * shape.Nodes;
            if (shape.Type >= 0)
            {
                if (GuaranteeHeadroom(project, shape.Type) >= gpus) return true;
                continue;
            }
            for (var t = 0; t < _types.Count; t++)
                if (GuaranteeHeadroom(project, t) >= gpus) return true;
        }
        return false;
    }

    /// <summary>Phase 2's counterpart of <see cref="ProvenBlocked"/>: no reservation left, and every group
    /// that could be inside its guarantee is known (this decision) to fail both placement and reclaim.</summary>
    private bool GuaranteedProvenBlocked(Account project, long now)
    {
        if (_book.Counted < Settings.Reservations || _waitingStamp[project.Index] == _stamp || PriorityPreemptionPossible(project, now)) return false;
        foreach (var (shape, group) in project.Queue.Groups)
        {
            var gpus = shape.GpusPerNode * shape.Nodes;
            for (var t = shape.Type >= 0 ? shape.Type : 0; t < (shape.Type >= 0 ? shape.Type + 1 : _types.Count); t++)
            {
                if (GuaranteeHeadroom(project, t) < gpus || LimitBlocker(project, t, gpus) is not null) continue;
                var key = shape with { Type = t };
                if (!PlacementBlocked(key, group.MinWalltimeTicks)
                    || !(_reclaimFailed.Contains(key) || _reclaimFailedFor.Contains((project.Index, key)))) return false;
            }
        }
        return true;
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
            if (!guaranteed && !CanBorrow(job)) { reason ??= NoBorrowReason(job, project, t); continue; }
            if (admitted < 0) admitted = t;
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

    private bool TryPriorityPreemption(Account project, Job job, int type, long now)
    {
        var request = PlacementRequest.For(job, type);
        if (ResumeReclaim(job, type, promise: false)) return true;
        var key = (project.Index, job.Shape with { Type = type });
        if (_priorityFailed.Contains(key)) return false;
        var memo = job.DisplacedBy is null;
        if (!FindPriorityVictims(project, request, now, job.DisplacedBy))
        {
            if (memo) _priorityFailed.Add(key);
            return false;
        }
        ApplyPreemption(job, type, PreemptionKind.Priority, request, now);
        return true;
    }

    /// <summary>Searches the project's own running low jobs for victims (reads state only).</summary>
    private bool FindPriorityVictims(Account project, in PlacementRequest request, long now, List<JobId>? displacedBy)
    {
        // Only nodes running the project's own low jobs can yield victims; a gang may add nodes with room.
        _priorityNodes.Clear();
        foreach (var v in project.Running)
            if (v.Status == JobStatus.Running && v.Spec.Priority == JobPriority.Low && v.AllocatedType == request.Type) _priorityNodes.AddRange(v.Nodes);
        if (_priorityNodes.Count == 0) return false;
        if (request.Nodes > 1)
        {
            var visitor = new CollectNodes(_priorityNodes);
            _cluster.ForEachWithFree(request.Type, request.GpusPerNode, ref visitor);
        }
        _priorityNodes.Sort();
        var distinct = 0;
        for (var i = 0; i < _priorityNodes.Count; i++)
            if (i == 0 || _priorityNodes[i] != _priorityNodes[i - 1]) _priorityNodes[distinct++] = _priorityNodes[i];
        _priorityNodes.RemoveRange(distinct, _priorityNodes.Count - distinct);
        var index = project.Index;
        return _victims.Find(request, now,
            v => v.Status == JobStatus.Running && v.Project == index && v.Spec.Priority == JobPriority.Low
                 && !(displacedBy?.Contains(v.Id) ?? false),
            v => 0,
            _priorityNodes);
    }

    /// <summary>Whether a high job of the project might still displace one of its low jobs in this decision.
    /// Each high shape group not yet known to fail is searched now, without any job's exclusions (the search
    /// only reads state, and failing without exclusions means failing with them), so the answer is exact.</summary>
    private bool PriorityPreemptionPossible(Account project, long now)
    {
        if (!project.PriorityPreemption) return false;
        var anyLow = false;
        foreach (var v in project.Running)
            if (v.Status == JobStatus.Running && v.Spec.Priority == JobPriority.Low) { anyLow = true; break; }
        if (!anyLow) return false;
        foreach (var (shape, group) in project.Queue.Groups)
        {
            if (group.High == 0) continue;
            for (var t = shape.Type >= 0 ? shape.Type : 0; t < (shape.Type >= 0 ? shape.Type + 1 : _types.Count); t++)
            {
                var key = (project.Index, shape with { Type = t });
                if (_priorityFailed.Contains(key)) continue;
                // A high job gets to priority preemption only once admitted: inside its guarantee, or borrowing.
                if (group.HighPreemptible == 0 && GuaranteeHeadroom(project, t) < shape.GpusPerNode * shape.Nodes) continue;
                var request = new PlacementRequest(t, shape.Nodes, shape.GpusPerNode, shape.Cpu, shape.Memory, group.MinWalltimeTicks);
                if (FindPriorityVictims(project, request, now, null)) return true;
                _priorityFailed.Add(key);
            }
        }
        return false;
    }

    private readonly struct CollectNodes(List<int> into) : Cluster.INodeVisitor
    {
        public bool Visit(int node)
        {
            into.Add(node);
            return true;
        }
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
        for (var t = shape.Type >= 0 ? shape.Type : 0; t < (shape.Type >= 0 ? shape.Type + 1 : _types.Count); t++)
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
        if (_readyStamp[project.Index] == _stamp || PriorityPreemptionPossible(project, now)) return false;
        var budget = BudgetBlocker(project);
        if (budget is { Budget.OnExhausted: BudgetAction.Hold }) return true;
        var reservationsLeft = _book.Counted < Settings.Reservations;
        foreach (var (shape, group) in project.Queue.Groups)
        {
            var gpus = shape.GpusPerNode * shape.Nodes;
            for (var t = shape.Type >= 0 ? shape.Type : 0; t < (shape.Type >= 0 ? shape.Type + 1 : _types.Count); t++)
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

    // ------------------------------------------------------------ place, reserve, explain

    private bool TryStartNow(Job job, int type, bool borrowing, long now)
    {
        var request = PlacementRequest.For(job, type);
        if (job.ReclaimNodes is not null) return TryStartReclaimer(job, type, borrowing, request, now);
        var key = job.Shape with { Type = type };
        if (_placeFailedAt.TryGetValue(key, out var failedAt) && failedAt <= job.WalltimeTicks) return false;
        if (!_placer.TryPlaceNow(request, now))
        {
            // The placer says how long a job of this shape could run and still fit: anything longer fails.
            var longest = _placer.LongestFittingWalltime;
            var fails = longest == long.MaxValue ? job.WalltimeTicks : Math.Min(job.WalltimeTicks, longest + 1);
            _placeFailedAt[key] = failedAt == 0 ? fails : Math.Min(failedAt, fails);
            return false;
        }
        Start(job, type, borrowing, request, now);
        return true;
    }

    /// <summary>A job waiting for its victims places ignoring its own claims (the capacity is its own);
    /// it neither reads nor feeds the shape memo, which speaks for jobs without such claims.</summary>
    private bool TryStartReclaimer(Job job, int type, bool borrowing, in PlacementRequest request, long now)
    {
        _book.Ignoring = job.Id;
        var placed = _placer.TryPlaceNow(request, now);
        _book.Ignoring = default;
        if (!placed) return false;
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
                var nodes = _placer.Chosen.ToArray();
                _book.Add(new Reservation(job.Id, new DateTimeOffset(start, TimeSpan.Zero), NodeNames(nodes), request.GpusPerNode, _types.NameOf(type)),
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
        if (perType is null || perType.Length <= g) perType = _nodeCounts[type] = new (int, int, int)[Math.Max(g + 1, 9)];
        if (perType[g].Stamp != _stamp)
        {
            int registered = 0, up = 0;
            foreach (var n in _cluster.NodesOfType(type))
            {
                if (_cluster.GpusOf(n) < g) continue;
                registered++;
                if (_cluster.StateOf(n) == NodeState.Up) up++;
            }
            perType[g] = (_stamp, registered, up);
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

    private string[] NodeNames(int[] nodes)
    {
        var names = new string[nodes.Length];
        for (var i = 0; i < nodes.Length; i++) names[i] = _cluster.NameOf(nodes[i]);
        return names;
    }
}
