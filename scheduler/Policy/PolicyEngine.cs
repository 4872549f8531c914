using Mekong.Policy.Accounts;
using Mekong.Policy.Backfill;
using Mekong.Policy.Cluster;
using Mekong.Policy.FairShare;
using Mekong.Policy.Jobs;
using Mekong.Policy.Placement;
using Mekong.Policy.Preemption;

namespace Mekong.Policy;

/// <summary>The policy core: the host feeds it events (submit, cancel, finish, node up/down/drain, account
/// change, time advancing through the injected clock) and asks for a decision. <see cref="Schedule"/> is
/// the full pass that also explains every pending job; <see cref="Decide"/> is the cheap decision after a
/// single event. Both make the same starts and preemptions. Single-threaded; no I/O; deterministic.</summary>
public sealed partial class PolicyEngine
{
    private readonly TimeProvider _time;
    private readonly GpuTypeTable _types = new();
    private readonly AccountTree _accounts;
    private readonly ClusterState _cluster;
    private readonly Dictionary<JobId, Job> _jobs = [];
    private readonly FairTree _fairTree = new();
    private readonly ReservationBook _book = new();
    private readonly Placer _placer;
    private readonly ReadyOrder _ready;
    private readonly VictimSelector _victims;
    private readonly QueuedShapes _queuedShapes = new();
    private readonly double[] _typeWeight = new double[GpuTypeTable.MaxTypes];
    private int _pendingCount;

    public PolicyEngine(PolicySettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _accounts = new AccountTree(_types, settings.UsageHalfLife);
        _cluster = new ClusterState(_types);
        _ready = new ReadyOrder(_cluster);
        _placer = new Placer(_cluster, _book, _ready);
        _victims = new VictimSelector(_cluster, _book, settings.ReclaimVictimOrder);
        foreach (var type in settings.GpuTypeWeights.Keys) RegisterType(type);
    }

    public PolicySettings Settings { get; }

    public DateTimeOffset Now => _time.GetUtcNow();

    public int PendingCount => _pendingCount;

    public int RunningCount => _jobs.Count - _pendingCount;

    private long NowTicks => _time.GetUtcNow().UtcTicks;

    private int RegisterType(string name)
    {
        var t = _types.GetOrAdd(name);
        _typeWeight[t] = Settings.WeightOf(name);
        return t;
    }

    // ---------------------------------------------------------------- nodes

    /// <summary>A node registers or comes back up. Its shape may change only while nothing runs on it.</summary>
    public void NodeUp(NodeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        RegisterType(spec.GpuType);
        var index = _cluster.AddOrUpdate(spec);
        _ready.NodeChanged(index);
        CapacityMayGrow(index);
    }

    /// <summary>Running jobs continue; nothing new is placed on the node.</summary>
    public void NodeDrain(string node)
    {
        var index = NodeIndex(node);
        _cluster.SetState(index, NodeState.Draining);
        _ready.NodeChanged(index);
    }

    /// <summary>A drained node takes work again.</summary>
    public void NodeResume(string node)
    {
        var index = NodeIndex(node);
        _cluster.SetState(index, NodeState.Up);
        _ready.NodeChanged(index);
        CapacityMayGrow(index);
    }

    /// <summary>The node is lost. Every job with a GPU on it has failed: requeued with its original submit
    /// time unless it opted out (then it is gone from the core). A gang loses all its nodes.</summary>
    public IReadOnlyList<LostJob> NodeDown(string node)
    {
        var index = NodeIndex(node);
        _cluster.SetState(index, NodeState.Down);
        _ready.NodeChanged(index);
        var lost = new List<LostJob>();
        var now = NowTicks;
        foreach (var tenant in _cluster.Tenants(index).ToArray())
        {
            var job = tenant.Job;
            // A stopping job goes where its stop sends it (preempted: requeued; cancelled: gone), whatever its spec says.
            var requeue = job.Status == JobStatus.Terminating ? job.Requeue : job.Spec.Requeue;
            StopRunning(job, now);
            if (requeue) Enqueue(job);
            else _jobs.Remove(job.Id);
            lost.Add(new LostJob(job.Id, requeue));
        }
        return lost;
    }

    private int NodeIndex(string node) =>
        _cluster.TryGet(node, out var index) ? index : throw new PolicyException($"node '{node}' does not exist");

    // ---------------------------------------------------------------- accounts

    /// <summary>Adds or changes an account. Rejected whole (state unchanged) if it breaks the tree's rules.</summary>
    public void SetAccount(AccountSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        foreach (var t in spec.Guarantee.Keys) RegisterType(t);
        foreach (var t in spec.Limit.Keys) RegisterType(t);
        _accounts.Set(spec, NowTicks);
    }

    /// <summary>Removes a leaf account with no jobs.</summary>
    public void RemoveAccount(string path) => _accounts.Remove(path);

    /// <summary>Restores a project's decayed usage and budget burn from the store after a restart.</summary>
    public void RestoreUsage(string project, double decayedUsage, double budgetUsedGpuSeconds)
    {
        var account = Project(project);
        _accounts.RestoreUsage(account, decayedUsage, budgetUsedGpuSeconds, NowTicks);
    }

    private Account Project(string path)
    {
        if (!_accounts.TryGet(path, out var account) || account.Index == 0)
            throw new PolicyException($"project '{path}' does not exist");
        if (!account.IsLeaf) throw new PolicyException($"account '{path}' is an organisation; jobs go to its projects");
        return account;
    }

    // ---------------------------------------------------------------- jobs

    /// <summary>A job is submitted (or requeued after a restart): it joins its project's queue.</summary>
    public void Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (_jobs.ContainsKey(spec.Id)) throw new PolicyException($"job {spec.Id} already exists");
        var project = Project(spec.Project);
        var type = spec.GpuType is null ? -1 : RegisterType(spec.GpuType);
        var job = new Job(spec, project.Index, type);
        _jobs.Add(spec.Id, job);
        Enqueue(job);
    }

    /// <summary>Restores a job that was running when the host restarted, on the GPUs it holds.</summary>
    public void RestoreRunning(JobSpec spec, IReadOnlyList<NodeAllocation> allocations, DateTimeOffset started, bool borrowing)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(allocations);
        spec.Validate();
        if (_jobs.ContainsKey(spec.Id)) throw new PolicyException($"job {spec.Id} already exists");
        if (allocations.Count != spec.Nodes) throw new PolicyException($"job {spec.Id}: {allocations.Count} allocations for {spec.Nodes} nodes");
        var project = Project(spec.Project);
        var nodes = new int[allocations.Count];
        var type = -1;
        for (var i = 0; i < allocations.Count; i++)
        {
            nodes[i] = NodeIndex(allocations[i].Node);
            var nodeType = _cluster.TypeOf(nodes[i]);
            if (type >= 0 && nodeType != type) throw new PolicyException($"job {spec.Id}: allocations span GPU types");
            type = nodeType;
            if ((_cluster.FreeMask(nodes[i]) & allocations[i].GpuMask) != allocations[i].GpuMask || allocations[i].GpuCount != spec.GpusPerNode)
                throw new PolicyException($"job {spec.Id}: GPUs on {allocations[i].Node} are not free or not {spec.GpusPerNode}");
        }
        var job = new Job(spec, project.Index, spec.GpuType is null ? -1 : RegisterType(spec.GpuType));
        _jobs.Add(spec.Id, job);
        _pendingCount++;
        var masks = new ulong[allocations.Count];
        for (var i = 0; i < masks.Length; i++) masks[i] = allocations[i].GpuMask;
        StartRunning(job, type, nodes, masks, borrowing, started.UtcTicks, fromQueue: false);
    }

    /// <summary>A pending job is removed at once; a running one is told to stop (it keeps its GPUs
    /// until <see cref="Finish"/> says it has gone).</summary>
    public CancelOutcome Cancel(JobId id)
    {
        if (!_jobs.TryGetValue(id, out var job)) return CancelOutcome.NotFound;
        if (job.Status == JobStatus.Pending)
        {
            Dequeue(job);
            _jobs.Remove(id);
            return CancelOutcome.Removed;
        }
        job.Requeue = false;
        if (job.Status == JobStatus.Running)
        {
            job.Status = JobStatus.Terminating;
            _cluster.TenantChanged(job);
            CapacityMayGrow(job);
            StopBy(job, NowTicks + job.Spec.GracePeriod.Ticks);
        }
        return CancelOutcome.Stopping;
    }

    /// <summary>The job's processes have ended (any outcome). Its GPUs are free; if it was stopped by a
    /// preemption it goes back to pending with its original submit time.</summary>
    public FinishOutcome Finish(JobId id)
    {
        if (!_jobs.TryGetValue(id, out var job) || job.Status == JobStatus.Pending) return FinishOutcome.NotFound;
        var requeue = job.Requeue;
        StopRunning(job, NowTicks);
        if (requeue)
        {
            job.PreemptionCount++;
            Enqueue(job);
            return FinishOutcome.Requeued;
        }
        _jobs.Remove(id);
        return FinishOutcome.Removed;
    }

    /// <summary>Holds a pending job (reason <c>held</c>) until <see cref="Release"/>.</summary>
    public void Hold(JobId id) => PendingJob(id).Held = true;

    public void Release(JobId id) => PendingJob(id).Held = false;

    private Job PendingJob(JobId id)
    {
        if (!_jobs.TryGetValue(id, out var job)) throw new PolicyException($"job {id} does not exist");
        if (job.Status != JobStatus.Pending) throw new PolicyException($"job {id} is not pending");
        return job;
    }

    private void Enqueue(Job job)
    {
        job.Status = JobStatus.Pending;
        job.Reason = default;
        job.Requeue = false;
        job.KillTicks = long.MaxValue;
        job.Nodes = [];
        job.Masks = [];
        job.AllocatedType = -1;
        job.ReclaimNodes = null;
        job.ReclaimClaim = null;
        var queue = _accounts[job.Project].Queue;
        var before = queue.MinWalltime(job.Shape);
        job.MayNotBorrow = !job.Spec.Preemptible || job.PreemptionCount >= Settings.MaxPreemptions;
        queue.Add(job);
        _queuedShapes.Update(job.Shape, job.Project, before, queue.MinWalltime(job.Shape));
        _pendingCount++;
    }

    private void Dequeue(Job job)
    {
        var queue = _accounts[job.Project].Queue;
        var before = queue.MinWalltime(job.Shape);
        queue.Remove(job);
        _queuedShapes.Update(job.Shape, job.Project, before, queue.MinWalltime(job.Shape));
        _pendingCount--;
    }

    private void StartRunning(Job job, int type, int[] nodes, ulong[] masks, bool borrowing, long now, bool fromQueue)
    {
        if (fromQueue) Dequeue(job);
        else _pendingCount--;
        job.Status = JobStatus.Running;
        job.AllocatedType = type;
        job.Nodes = nodes;
        job.Masks = masks;
        job.StartTicks = now;
        job.Borrowing = borrowing;
        job.ReclaimNodes = null;
        job.ReclaimClaim = null;
        job.KillTicks = long.MaxValue;
        for (var i = 0; i < nodes.Length; i++)
            _cluster.Allocate(nodes[i], job, masks[i], job.Spec.CpuPerNode, job.Spec.MemoryMbPerNode);
        var project = _accounts[job.Project];
        _accounts.ChangeHolding(project, type, job.TotalGpus, borrowing, _typeWeight[type], now);
        project.Running.Add(job);
        ProjectStarted(job);
        JobNodesChanged(job);
    }

    private void StopRunning(Job job, long now)
    {
        foreach (var node in job.Nodes) _cluster.Release(node, job);
        CapacityMayGrow(job);
        JobNodesChanged(job);
        var project = _accounts[job.Project];
        var type = job.AllocatedType;
        _accounts.ChangeHolding(project, type, -job.TotalGpus, job.Borrowing, _typeWeight[type], now);
        project.Running.Remove(job);
        if (!job.Borrowing) PromoteBorrowers(project, type, now);
        job.Nodes = [];
        job.Masks = [];
    }

    /// <summary>The job is told to stop: its GPUs are back by this time at the latest.</summary>
    private void StopBy(Job job, long killTicks)
    {
        job.KillTicks = killTicks;
        JobNodesChanged(job);
    }

    /// <summary>The job's nodes changed what they hold or when it comes back (see <see cref="ReadyOrder"/>).</summary>
    private void JobNodesChanged(Job job)
    {
        foreach (var node in job.Nodes) _ready.NodeChanged(node);
    }

    /// <summary>Guaranteed capacity came free: the project's oldest borrowing jobs that now fit inside the
    /// guarantee stop being borrowers (and so stop being preemptible for reclaim).</summary>
    private void PromoteBorrowers(Account project, int type, long now)
    {
        if (ForcedBorrower(project)) return;
        Job? best;
        do
        {
            best = null;
            foreach (var j in project.Running)
            {
                if (!j.Borrowing || j.AllocatedType != type || j.Status != JobStatus.Running) continue;
                if (best is null || j.StartTicks < best.StartTicks || (j.StartTicks == best.StartTicks && j.Id.CompareTo(best.Id) < 0)) best = j;
            }
            if (best is null || !WithinGuarantee(project, type, best.TotalGpus)) return;
            _accounts.ChangeHolding(project, type, -best.TotalGpus, borrowing: true, _typeWeight[type], now);
            _accounts.ChangeHolding(project, type, best.TotalGpus, borrowing: false, _typeWeight[type], now);
            best.Borrowing = false;
            _cluster.TenantChanged(best);
        }
        while (true);
    }
}

/// <summary>What <see cref="PolicyEngine.Cancel"/> did.</summary>
public enum CancelOutcome
{
    NotFound = 0,
    /// <summary>It was pending and is gone.</summary>
    Removed = 1,
    /// <summary>It runs: the host stops it (SIGTERM, grace, SIGKILL) and then reports <see cref="PolicyEngine.Finish"/>.</summary>
    Stopping = 2,
}

/// <summary>What <see cref="PolicyEngine.Finish"/> did.</summary>
public enum FinishOutcome
{
    NotFound = 0,
    Removed = 1,
    /// <summary>It had been preempted: it is pending again, keeping its place by original submit time.</summary>
    Requeued = 2,
}

/// <summary>A job that was running on a node that went down.</summary>
public sealed record LostJob(JobId Job, bool Requeued);
