using Mekong.Policy.Accounts;
using Mekong.Policy.Cluster;
using Mekong.Policy.Jobs;
using Mekong.Policy.Placement;

namespace Mekong.Policy;

/// <summary>Preemption within a decision: guarantee reclaim from other accounts' borrowers, priority
/// preemption inside a project, and the claims of jobs waiting for their victims.</summary>
public sealed partial class PolicyEngine
{
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
        _searchProject = project;
        _searchDisplacedBy = job.DisplacedBy;
        var found = _victims.Find(request, now, _reclaimEligible ??= ReclaimEligible, _overuseOf ??= Overuse);
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
            _cluster.TenantChanged(victim);
            CapacityMayGrow(victim);
            victim.Requeue = true;
            StopBy(victim, now + victim.Spec.GracePeriod.Ticks);
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
        var start = new DateTimeOffset(ready, TimeSpan.Zero);
        Reservation reservation;
        if (job.ReclaimClaim is { } last && ReferenceEquals(last.Nodes, nodes))
            reservation = last.Reservation.Start == start ? last.Reservation : last.Reservation with { Start = start };
        else
            reservation = ReservationFor(job, ready, nodes, request.GpusPerNode, request.Type);
        // Kept only for nodes held across decisions: a wait for stopping jobs alone lasts this decision.
        job.ReclaimClaim = ReferenceEquals(nodes, job.ReclaimNodes) ? (nodes, reservation) : null;
        _book.Add(reservation, nodes, ready, ready + request.Walltime, request.GpusPerNode, request.Cpu, request.Memory, counted: false);
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
                job.ReclaimClaim = null;
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

    private bool TryPriorityPreemption(Account project, Job job, int type, long now)
    {
        var request = PlacementRequest.For(job, type);
        if (ResumeReclaim(job, type, promise: false)) return true;
        var key = (project.Index, job.Shape with { Type = type });
        if (_priorityFailed.Contains(key) || PriorityFailureCarried(key.Index, key.Item2)) return false;
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
    private bool FindPriorityVictims(Account project, in PlacementRequest request, long now, List<JobId>? displacedBy, bool ignoreClaims = false)
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
        _searchProject = project.Index;
        _searchDisplacedBy = displacedBy;
        return _victims.Find(request, now, _priorityEligible ??= PriorityEligible, _noPreference ??= _ => 0, _priorityNodes, ignoreClaims);
    }

    // The victim searches' filters as delegates made once; they read the search's project and exclusions from these fields.
    private int _searchProject;
    private List<JobId>? _searchDisplacedBy;
    private Func<TenantSlot, bool>? _reclaimEligible, _priorityEligible;
    private Func<int, double>? _overuseOf, _noPreference;

    /// <summary>A guarantee reclaim takes running borrowers of other projects that have not already displaced the job.</summary>
    private bool ReclaimEligible(TenantSlot v) =>
        !v.Terminating && v.Borrowing && v.Project != _searchProject && !(_searchDisplacedBy?.Contains(v.Job.Id) ?? false);

    /// <summary>Priority preemption takes the project's own running low jobs that have not already displaced the job.</summary>
    private bool PriorityEligible(TenantSlot v) =>
        !v.Terminating && v.Project == _searchProject && v.Low && !(_searchDisplacedBy?.Contains(v.Job.Id) ?? false);

    private readonly struct CollectNodes(List<int> into) : Cluster.INodeVisitor
    {
        public bool Visit(int node)
        {
            into.Add(node);
            return true;
        }
    }
}
