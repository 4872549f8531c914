using System.Globalization;
using System.Text;

namespace Mekong.Policy.Tests.Harness;

/// <summary>Runs the real policy core over an in-memory cluster with fake time. A test sets up nodes and
/// accounts, submits jobs, and steps one scheduling pass at a time; the host's part (starting processes,
/// reporting ends, delivering preemption signals) is played by <see cref="Finish(JobId)"/> and
/// <see cref="PreemptionsComplete"/>. After every decision the harness checks the invariants that hold for
/// any plan (a GPU never given twice or of the wrong type, gangs whole, no account past its limit).</summary>
public sealed class PolicyHarness
{
    private readonly Dictionary<JobId, string> _names = [];
    private long _nextId = 1;
    private int _nextNode = 1;

    public PolicyHarness(PolicySettings? settings = null, DateTimeOffset? start = null)
    {
        Clock = new ManualTimeProvider(start ?? ManualTimeProvider.Epoch);
        Engine = new PolicyEngine(settings ?? new PolicySettings(), Clock);
    }

    /// <summary>A harness with one organisation <c>org</c> and one project <c>org/p</c> (no guarantees),
    /// the default project of jobs that name none.</summary>
    public static PolicyHarness SingleProject(PolicySettings? settings = null)
    {
        var h = new PolicyHarness(settings);
        h.Account("org");
        h.Account("org/p");
        h.DefaultProject = "org/p";
        return h;
    }

    public ManualTimeProvider Clock { get; }

    public PolicyEngine Engine { get; }

    public DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>Project used by jobs whose builder names none.</summary>
    public string? DefaultProject { get; set; }

    /// <summary>Whether each decision is followed by the invariant check (on by default).</summary>
    public bool CheckInvariants { get; set; } = true;

    /// <summary>The plan of the last <see cref="Pass"/> or <see cref="Decide"/>.</summary>
    public SchedulingPlan? LastPlan { get; private set; }

    // ------------------------------------------------------------ cluster

    /// <summary>Adds <paramref name="count"/> alike nodes named <c>{prefix}{n}</c> (n counts up across calls, 2 digits).</summary>
    public IReadOnlyList<string> Nodes(int count, int gpus, string type = "h100", string block = "b1", string prefix = "n", int cpu = 128, long memoryMb = 1_048_576)
    {
        var names = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var name = prefix + _nextNode++.ToString("D2", CultureInfo.InvariantCulture);
            Engine.NodeUp(new NodeSpec(name, type, gpus, cpu, memoryMb, block));
            names.Add(name);
        }
        return names;
    }

    /// <summary>Adds one named node.</summary>
    public string Node(string name, int gpus, string type = "h100", string block = "b1", int cpu = 128, long memoryMb = 1_048_576)
    {
        Engine.NodeUp(new NodeSpec(name, type, gpus, cpu, memoryMb, block));
        return name;
    }

    public IReadOnlyList<LostJob> NodeDown(string node) => Engine.NodeDown(node);

    public void Drain(string node) => Engine.NodeDrain(node);

    public void Resume(string node) => Engine.NodeResume(node);

    public NodeView NodeView(string node) => Engine.Nodes().Single(n => n.Spec.Name == node);

    // ------------------------------------------------------------ accounts

    /// <summary>Adds or changes an account; one GPU type per guarantee/limit (use <see cref="Account(AccountSpec)"/> for more).</summary>
    public string Account(
        string path,
        (string Type, int Gpus)? guarantee = null,
        (string Type, int Gpus)? limit = null,
        int shares = 1,
        Budget? budget = null,
        bool priorityPreemption = false)
    {
        Engine.SetAccount(new AccountSpec(path)
        {
            Shares = shares,
            Guarantee = guarantee is { } g ? Builders.GpuMap(g) : new Dictionary<string, int>(),
            Limit = limit is { } l ? Builders.GpuMap(l) : new Dictionary<string, int>(),
            Budget = budget,
            PriorityPreemption = priorityPreemption,
        });
        return path;
    }

    public string Account(AccountSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Engine.SetAccount(spec);
        return spec.Path;
    }

    public AccountView AccountView(string path) => Engine.Accounts().Single(a => a.Path == path);

    // ------------------------------------------------------------ jobs

    /// <summary>Submits the job with the next id; its submit time is now unless the builder sets one.</summary>
    public JobId Submit(JobBuilder job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var id = new JobId(_nextId++);
        var project = job.Project ?? DefaultProject ?? throw new InvalidOperationException($"job {job.Name} names no project and the harness has no default");
        Engine.Submit(job.Build(id, project, Now));
        _names[id] = job.Name;
        return id;
    }

    public JobId[] Submit(params JobBuilder[] jobs) => [.. jobs.Select(Submit)];

    /// <summary>Submits <paramref name="count"/> copies of the job, one tick apart so their order is defined.</summary>
    public JobId[] SubmitMany(int count, Func<int, JobBuilder> job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var ids = new JobId[count];
        for (var i = 0; i < count; i++) ids[i] = Submit(job(i));
        return ids;
    }

    public FinishOutcome Finish(JobId job) => Engine.Finish(job);

    public void Finish(params JobId[] jobs)
    {
        foreach (var j in jobs) Engine.Finish(j);
    }

    public CancelOutcome Cancel(JobId job) => Engine.Cancel(job);

    public void Hold(JobId job) => Engine.Hold(job);

    public void Release(JobId job) => Engine.Release(job);

    /// <summary>The host delivers every pending preemption: each terminating victim reports it has ended
    /// (and is requeued). Returns the victims.</summary>
    public IReadOnlyList<JobId> PreemptionsComplete()
    {
        var stopping = Engine.Jobs().Where(j => j.Status == JobStatus.Terminating).Select(j => j.Spec.Id).ToList();
        foreach (var id in stopping) Engine.Finish(id);
        return stopping;
    }

    public JobView Job(JobId id) => Engine.GetJob(id) ?? throw new InvalidOperationException($"the core does not hold job {Describe(id)}");

    public JobStatus? Status(JobId id) => Engine.GetJob(id)?.Status;

    public bool IsRunning(JobId id) => Status(id) == JobStatus.Running;

    public bool IsPending(JobId id) => Status(id) == JobStatus.Pending;

    public PendingExplanation Explain(JobId id) =>
        Engine.Explain(id) ?? throw new InvalidOperationException($"job {Describe(id)} is not pending");

    /// <summary>Node names the job runs on, in allocation order.</summary>
    public IReadOnlyList<string> NodesOf(JobId id) => [.. Job(id).Allocations.Select(a => a.Node)];

    /// <summary>Blocks of the nodes the job runs on, distinct.</summary>
    public IReadOnlyList<string> BlocksOf(JobId id)
    {
        var nodes = Engine.Nodes().ToDictionary(n => n.Spec.Name, n => n.Spec.Block);
        return [.. NodesOf(id).Select(n => nodes[n]).Distinct()];
    }

    public string Describe(JobId id) => _names.TryGetValue(id, out var name) ? $"{id} ({name})" : id.ToString();

    // ------------------------------------------------------------ time and decisions

    public void Advance(TimeSpan by) => Clock.Advance(by);

    /// <summary>One full scheduling pass (<see cref="PolicyEngine.Schedule"/>).</summary>
    public SchedulingPlan Pass() => Record(Engine.Schedule());

    /// <summary>One incremental decision (<see cref="PolicyEngine.Decide"/>).</summary>
    public SchedulingPlan Decide() => Record(Engine.Decide());

    /// <summary>Runs passes, completing preemptions in between, until a pass changes nothing (at most <paramref name="max"/>).</summary>
    public SchedulingPlan Settle(int max = 10)
    {
        for (var i = 0; i < max; i++)
        {
            var plan = Pass();
            if (plan.IsEmpty) return plan;
            PreemptionsComplete();
        }
        throw new InvalidOperationException($"no steady state after {max} passes");
    }

    private SchedulingPlan Record(SchedulingPlan plan)
    {
        LastPlan = plan;
        if (CheckInvariants) AssertInvariants();
        return plan;
    }

    /// <summary>Invariants 1–3 of DESIGN.md over the engine's current state.</summary>
    public void AssertInvariants()
    {
        Assert.Null(Engine.TenantSlotMismatch());
        var nodes = Engine.Nodes().ToDictionary(n => n.Spec.Name);
        var taken = nodes.Keys.ToDictionary(n => n, _ => 0UL);
        foreach (var job in Engine.Jobs())
        {
            if (job.Status == JobStatus.Pending)
            {
                Assert.Empty(job.Allocations);
                continue;
            }
            Assert.True(job.Allocations.Count == job.Spec.Nodes, $"gang {Describe(job.Spec.Id)} holds {job.Allocations.Count} of {job.Spec.Nodes} nodes");
            Assert.Equal(job.Spec.Nodes, job.Allocations.Select(a => a.Node).Distinct().Count());
            foreach (var a in job.Allocations)
            {
                var node = nodes[a.Node];
                Assert.True(a.GpuCount == job.Spec.GpusPerNode, $"job {Describe(job.Spec.Id)} has {a.GpuCount} GPUs on {a.Node}, asked {job.Spec.GpusPerNode}");
                if (job.Spec.GpuType is { } type) Assert.True(node.Spec.GpuType == type, $"job {Describe(job.Spec.Id)} asked {type} and got {node.Spec.GpuType} on {a.Node}");
                Assert.True((taken[a.Node] & a.GpuMask) == 0, $"a GPU on {a.Node} is given twice (job {Describe(job.Spec.Id)})");
                taken[a.Node] |= a.GpuMask;
            }
        }
        foreach (var (name, node) in nodes)
        {
            Assert.True((taken[name] & node.FreeGpuMask) == 0, $"node {name}: a GPU is both free and allocated");
            Assert.Equal(node.Spec.Gpus, System.Numerics.BitOperations.PopCount(taken[name] | node.FreeGpuMask));
        }
        foreach (var account in Engine.Accounts())
        {
            if (account.Spec is null) continue;
            foreach (var (type, limit) in account.Spec.Limit)
                Assert.True(account.Used.GetValueOrDefault(type) <= limit, $"account {account.Path} holds {account.Used.GetValueOrDefault(type)} {type}, limit {limit}");
        }
    }

    /// <summary>A readable dump of the plan, for failure messages.</summary>
    public string Describe(SchedulingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var sb = new StringBuilder();
        foreach (var s in plan.Starts)
            sb.Append(CultureInfo.InvariantCulture, $"start {Describe(s.Job)} on {string.Join(",", s.Allocations.Select(a => $"{a.Node}:{a.GpuCount}"))}{(s.Borrowing ? " (borrowing)" : "")}\n");
        foreach (var p in plan.Preemptions)
            sb.Append(CultureInfo.InvariantCulture, $"preempt {Describe(p.Victim)} for {Describe(p.For)} ({p.Kind})\n");
        foreach (var r in plan.Reservations)
            sb.Append(CultureInfo.InvariantCulture, $"reserve {string.Join(",", r.Nodes)} for {Describe(r.Job)} from {r.Start:u}\n");
        return sb.ToString();
    }
}
