using Mekong.Policy.Tests.Harness;

namespace Mekong.Policy.Tests.Properties;

/// <summary>Which invariants a run checks after every pass.</summary>
[Flags]
public enum Checks
{
    None = 0,
    Allocations = 1,
    Limits = 2,
    GuaranteeWait = 4,
    Reservations = 8,
    Determinism = 16,
    FairShare = 32,
    All = Allocations | Limits | GuaranteeWait | Reservations | Determinism | FairShare,
}

/// <summary>Drives three engines in lockstep through one decoded scenario: A and B run full passes
/// (<see cref="PolicyEngine.Schedule"/>), C runs incremental decisions (<see cref="PolicyEngine.Decide"/>).
/// Every event is resolved against A's state (pick the k-th running job, …) and then applied to all three
/// as the same concrete call, so equal inputs reach every engine. After each event comes a pass and the
/// chosen checks; a violation throws with the trace of events so far.</summary>
public sealed class PolicyDriver
{
    private static readonly int[] GpuSizes = [1, 2, 4, 8];
    private static readonly int[] ReservationCaps = [0, 1, 2, 16];

    private readonly ScenarioInput _input;
    private readonly Checks _checks;
    private readonly ClusterDef _def;
    private readonly Dictionary<string, AccountSpec> _specs;
    private readonly ManualTimeProvider[] _clocks = [new(), new(), new()];
    private readonly PolicyEngine[] _engines;
    private readonly List<string> _trace = [];
    // What the host knows and the engine's views do not show: kill deadlines of stopping jobs, and who displaced whom.
    private readonly Dictionary<JobId, long> _killTicks = [];
    private readonly Dictionary<JobId, Reservation> _reclaimClaims = [];
    private readonly Dictionary<JobId, HashSet<JobId>> _displacedBy = [];
    private long _nextId = 1;

    public PolicyDriver(ScenarioInput input, Checks checks)
    {
        _input = input;
        _checks = checks;
        _def = ClusterDef.Decode(input.Seed);
        _specs = _def.Accounts.ToDictionary(a => a.Path);
        // Few reservations make the cap bind, which is where Decide() may skip whole projects. Half the runs count
        // borrowing jobs' sizes against the fair share from half of it (the default), half not at all.
        var settings = new PolicySettings
        {
            Reservations = ReservationCaps[input.Seed % ReservationCaps.Length],
            BorrowAnySizeBelowShare = input.Seed / ReservationCaps.Length % 2 == 0 ? 0.5 : 1.5,
        };
        _engines = [.. _clocks.Select(c => new PolicyEngine(settings, c))];
        // B replays A's stream with victim searches that try every node: it must decide exactly as A.
        _engines[1].ExhaustiveVictimSearch = true;
        foreach (var n in _def.Nodes) All($"node up {n.Name} {n.GpuType}×{n.Gpus} {n.Block}", e => e.NodeUp(n));
        foreach (var a in _def.Accounts)
            All($"account {a.Path} shares {a.Shares} guarantee {Dict(a.Guarantee)} limit {Dict(a.Limit)}", e => e.SetAccount(a));
    }

    /// <summary>What the run exercised, so a test can show the properties are not vacuous.</summary>
    public RunStatistics Statistics { get; } = new();

    private PolicyEngine A => _engines[0];

    private long Now => A.Now.UtcTicks;

    public static RunStatistics Run(ScenarioInput input, Checks checks)
    {
        var driver = new PolicyDriver(input, checks);
        driver.Run();
        return driver.Statistics;
    }

    private void Run()
    {
        Pass();
        for (var step = 0; step < _input.Events.Length; step++)
        {
            var code = _input.Events[step];
            var r = new Mix(((ulong)(code / 100) * 1_000_003UL) + (ulong)_input.Seed);
            Apply(code % 100, ref r);
            var candidate = Pass();
            if (candidate is { } j && (_checks & Checks.GuaranteeWait) != 0) FollowUp(j);
        }
    }

    // ------------------------------------------------------------ events

    private void Apply(int kind, ref Mix r)
    {
        var jobs = A.Jobs().ToList();
        var nodes = A.Nodes();
        switch (kind)
        {
            case < 50:
                Submit(ref r);
                break;
            case < 60:
                if (Pick(jobs.Where(j => j.Status == JobStatus.Running), ref r) is { } done) Finish(done.Spec.Id, "finishes");
                break;
            case < 70:
                Advance(TimeSpan.FromMinutes(r.Range(1, 120)));
                break;
            case < 78:
                if (Pick(jobs.Where(j => j.Status == JobStatus.Terminating), ref r) is { } gone) Finish(gone.Spec.Id, "has stopped");
                break;
            case < 84:
                if (Pick(jobs, ref r) is { } cancel)
                {
                    if (cancel.Status == JobStatus.Running) _killTicks[cancel.Spec.Id] = Now + cancel.Spec.GracePeriod.Ticks;
                    All($"cancel {cancel.Spec.Id} ({cancel.Status})", e => e.Cancel(cancel.Spec.Id));
                }
                break;
            case < 88:
                if (Pick(nodes.Where(n => n.State == NodeState.Up), ref r) is { } drain) All($"drain {drain.Spec.Name}", e => e.NodeDrain(drain.Spec.Name));
                break;
            case < 91:
                if (Pick(nodes.Where(n => n.State == NodeState.Draining), ref r) is { } resume) All($"resume {resume.Spec.Name}", e => e.NodeResume(resume.Spec.Name));
                break;
            case < 94:
                if (Pick(nodes.Where(n => n.State != NodeState.Down), ref r) is { } down)
                {
                    foreach (var j in jobs.Where(j => j.Allocations.Any(a => a.Node == down.Spec.Name))) _killTicks.Remove(j.Spec.Id);
                    All($"node down {down.Spec.Name}", e => e.NodeDown(down.Spec.Name));
                }
                break;
            case < 97:
                if (Pick(nodes.Where(n => n.State == NodeState.Down), ref r) is { } up) All($"node up {up.Spec.Name}", e => e.NodeUp(up.Spec));
                break;
            default:
                if (Pick(jobs.Where(j => j.Status == JobStatus.Pending), ref r) is { } held)
                {
                    if (held.Held) All($"release {held.Spec.Id}", e => e.Release(held.Spec.Id));
                    else All($"hold {held.Spec.Id}", e => e.Hold(held.Spec.Id));
                }
                break;
        }
    }

    private void Submit(ref Mix r)
    {
        var id = new JobId(_nextId++);
        var project = r.Pick(_def.Projects);
        var nodes = r.Chance(20) ? r.Range(2, 3) : 1;
        var gpus = r.Pick(GpuSizes);
        var type = r.Chance(85) ? r.Pick(_def.Types) : null;
        var spec = new JobSpec(id, project, "u", $"j{id}", nodes, gpus, type, TimeSpan.FromMinutes(r.Range(10, 480)), A.Now)
        {
            Priority = (JobPriority)r.Range(0, 2),
            Preemptible = r.Chance(70),
            GracePeriod = TimeSpan.FromSeconds(r.Range(0, 120)),
        };
        All($"submit {id} to {project}: {nodes}×{gpus} {type ?? "any"} wall {spec.Walltime} {spec.Priority}{(spec.Preemptible ? " preemptible" : "")} grace {spec.GracePeriod.TotalSeconds}s",
            e => e.Submit(spec));
    }

    private void Finish(JobId id, string what)
    {
        _killTicks.Remove(id);
        All($"{id} {what}", e => e.Finish(id));
    }

    /// <summary>Time passes; the host enforces walltimes and SIGKILLs stopping jobs whose grace ran out.</summary>
    private void Advance(TimeSpan by)
    {
        _trace.Add($"advance {by}");
        foreach (var c in _clocks) c.Advance(by);
        foreach (var j in A.Jobs().ToList())
        {
            if (j.Status == JobStatus.Running && j.Started!.Value + j.Spec.Walltime <= A.Now) Finish(j.Spec.Id, "timed out");
            else if (j.Status == JobStatus.Terminating && _killTicks.TryGetValue(j.Spec.Id, out var kill) && kill <= Now) Finish(j.Spec.Id, "killed");
        }
    }

    private static T? Pick<T>(IEnumerable<T> items, ref Mix r) where T : class
    {
        var list = items.ToList();
        return list.Count == 0 ? null : r.Pick(list);
    }

    private void All(string what, Action<PolicyEngine> action)
    {
        _trace.Add(what);
        foreach (var e in _engines) action(e);
    }

    // ------------------------------------------------------------ passes and checks

    /// <summary>One decision on every engine, then the checks. Returns invariant 4's job when its
    /// precondition held and the job did not start at once (so <see cref="FollowUp"/> must see it run).</summary>
    private JobView? Pass()
    {
        var now = Now;
        var candidate = (_checks & Checks.GuaranteeWait) != 0 ? GuaranteeCandidate() : null;

        var planA = _engines[0].Schedule();
        var planB = _engines[1].Schedule();
        var planC = _engines[2].Decide();
        _trace.Add($"pass: {ReferenceModel.Describe(planA, reservations: true)}");
        Statistics.Passes++;
        Statistics.Starts += planA.Starts.Count;
        Statistics.GangStarts += planA.Starts.Count(s => s.Allocations.Count > 1);
        Statistics.BorrowingStarts += planA.Starts.Count(s => s.Borrowing);
        Statistics.Preemptions += planA.Preemptions.Count;
        Statistics.Reservations += planA.Reservations.Count;
        if (planA.Reservations.Count > 0) Statistics.StartsBesideReservations += planA.Starts.Count(s => !planA.Reservations.Any(r => r.Job == s.Job));
        foreach (var p in planA.Preemptions)
        {
            // Capacity preempted for a job is that job's until it starts: remember what it claims.
            var claim = planA.Reservations.LastOrDefault(r => r.Job == p.For);
            if (claim is not null) _reclaimClaims[p.For] = claim;
            _killTicks[p.Victim] = now + p.GracePeriod.Ticks;
            if (!_displacedBy.TryGetValue(p.Victim, out var by)) _displacedBy[p.Victim] = by = [];
            by.Add(p.For);
        }

        var jobs = A.Jobs().ToList();
        var nodes = A.Nodes();
        var errors = new List<string>();
        if ((_checks & Checks.Allocations) != 0)
        {
            errors.AddRange(ReferenceModel.CheckAllocations(jobs, nodes));
            foreach (var engine in _engines)
                if (engine.TenantSlotMismatch() is { } mismatch) errors.Add(mismatch);
            foreach (var s in planA.Starts)
            {
                var job = jobs.Single(j => j.Spec.Id == s.Job);
                if (!ReferenceModel.Holds(job) || !job.Allocations.SequenceEqual(s.Allocations))
                    errors.Add($"start of {s.Job} does not match the job's allocations");
                if (s.Allocations.Any(a => nodes.Single(n => n.Spec.Name == a.Node).State != NodeState.Up))
                    errors.Add($"{s.Job} started on a node that is not up");
            }
        }
        if ((_checks & Checks.Limits) != 0)
            errors.AddRange(ReferenceModel.CheckLimits(jobs, _def.Accounts, A.Accounts(), _def.Types));
        if ((_checks & Checks.Reservations) != 0)
            errors.AddRange(ReferenceModel.CheckReservations(planA, jobs, nodes, now, _killTicks));
        if ((_checks & Checks.Determinism) != 0)
        {
            var a = ReferenceModel.Describe(planA, reservations: true);
            var b = ReferenceModel.Describe(planB, reservations: true);
            if (a != b) errors.Add($"two engines fed the same stream (B searching every node for victims) decided differently:\n  A: {a}\n  B: {b}");
            var c = ReferenceModel.Describe(planC, reservations: false);
            if (ReferenceModel.Describe(planA, reservations: false) != c)
                errors.Add($"Decide() and Schedule() made different starts or preemptions:\n  Schedule: {a}\n  Decide:   {c}");
        }
        if ((_checks & Checks.FairShare) != 0)
        {
            var expected = ReferenceModel.FairShareOrder(A.Accounts());
            var actual = A.FairShareOrder();
            if (!expected.SequenceEqual(actual))
                errors.Add($"fair-share order [{string.Join(", ", actual)}], brute force [{string.Join(", ", expected)}]");
        }
        if (candidate is not null)
        {
            Statistics.GuaranteeCases++;
            var after = jobs.SingleOrDefault(j => j.Spec.Id == candidate.Spec.Id);
            if (after is not null && ReferenceModel.Holds(after)) candidate = null;
            else if (!planA.Preemptions.Any(p => p.For == candidate.Spec.Id) && !planA.Reservations.Any(r => r.Job == candidate.Spec.Id))
                errors.Add($"guaranteed job {candidate.Spec.Id} fits once borrowers are gone, yet the pass neither started it, nor preempted for it, nor reserved for it");
            // While it waits for its victims, the rest of the pass may not hand its guarantee headroom to
            // lower-ranked jobs of the same accounts: else it is no longer guaranteed when the GPUs come free.
            else if (!ReferenceModel.Guaranteed(candidate, candidate.Spec.GpuType!, jobs, _specs, checkLimit: false))
                errors.Add($"guaranteed job {candidate.Spec.Id} waits for its victims, but the same pass gave its guarantee headroom to later jobs");
        }
        Fail(errors);
        return candidate;
    }

    /// <summary>Invariant 4's precondition, a sufficient condition for "waits no longer than one cycle plus
    /// the victims' grace periods": the pending job J is (a) the first job the guaranteed sweep would treat
    /// as guaranteed — in fair-share order, not held, every account on its path within its guarantee
    /// (counting running non-borrowing jobs) and its limit with J included, no such job ranked before it —
    /// (b) of a named GPU type, and (c) its shape fits on the up nodes of that type with every borrowing job of another project
    /// removed (except borrowers that once displaced J, which it may never reclaim from).
    /// Being first matters: guarantees of different organisations may add up to more than a node layout can
    /// hold at once (fragmentation, gangs), so a job ranked later may legitimately find the capacity taken by
    /// another guaranteed job; DESIGN.md promises reclaim from borrowers, not from other guaranteed jobs.</summary>
    private JobView? GuaranteeCandidate()
    {
        var jobs = A.Jobs().ToList();
        var first = ReferenceModel.FirstGuaranteed(jobs, A.FairShareOrder(), _specs, _def.Types);
        if (first?.Spec.GpuType is null) return null;
        var protectedJobs = _displacedBy.TryGetValue(first.Spec.Id, out var by) ? by : [];
        // Jobs still waiting for their victims hold what was preempted for them.
        foreach (var id in _reclaimClaims.Keys.ToList())
            if (jobs.SingleOrDefault(j => j.Spec.Id == id) is not { Status: JobStatus.Pending }) _reclaimClaims.Remove(id);
        var claimed = _reclaimClaims.Where(c => c.Key != first.Spec.Id).Select(c => c.Value).ToList();
        return ReferenceModel.FitsWithoutBorrowers(first, jobs, A.Nodes(), protectedJobs, claimed) ? first : null;
    }

    /// <summary>Invariant 4, second half: the victims' processes end (the host reports each), and one more
    /// pass at the same instant must run the job — if it is still the first guaranteed job then (it may not be:
    /// a requeued victim can itself be inside its own guarantee and rank first, which is the same
    /// guaranteed-versus-guaranteed case excluded above).</summary>
    private void FollowUp(JobView job)
    {
        foreach (var j in A.Jobs().Where(j => j.Status == JobStatus.Terminating).ToList()) Finish(j.Spec.Id, "has stopped (victim grace over)");
        var stillFirst = GuaranteeCandidate()?.Spec.Id == job.Spec.Id;
        Pass();
        if (!stillFirst)
        {
            var ran = A.GetJob(job.Spec.Id) is { } j && ReferenceModel.Holds(j);
            if (!ran) Statistics.SkippedFollowUps++;
            if (!ran && Environment.GetEnvironmentVariable("MEKONG_PROPS_DUMP") is { } dump)
                File.AppendAllText(dump, $"--- {job.Spec.Id} overtaken\n  {string.Join("\n  ", _trace)}\n");
            return;
        }
        Statistics.FollowUps++;
        var after = A.GetJob(job.Spec.Id);
        if (after is null || !ReferenceModel.Holds(after))
            Fail([$"guaranteed job {job.Spec.Id} still {after?.Status.ToString() ?? "gone"} after its victims ended and one more pass"]);
    }

    private void Fail(List<string> errors)
    {
        if (errors.Count == 0) return;
        throw new InvalidOperationException(
            $"{string.Join("\n", errors)}\n--- replay: {_input}\n--- trace:\n  {string.Join("\n  ", _trace)}");
    }

    private static string Dict(IReadOnlyDictionary<string, int> d) => "{" + string.Join(",", d.Select(kv => $"{kv.Key}:{kv.Value}")) + "}";
}

/// <summary>Counts of what a run exercised.</summary>
public sealed class RunStatistics
{
    public int Passes { get; set; }
    public int Starts { get; set; }
    public int GangStarts { get; set; }
    public int BorrowingStarts { get; set; }
    public int Preemptions { get; set; }
    public int Reservations { get; set; }
    public int StartsBesideReservations { get; set; }
    public int GuaranteeCases { get; set; }
    public int FollowUps { get; set; }
    /// <summary>Follow-ups where another guaranteed job came first and the candidate did not run.</summary>
    public int SkippedFollowUps { get; set; }

    public void Add(RunStatistics o)
    {
        Passes += o.Passes;
        Starts += o.Starts;
        GangStarts += o.GangStarts;
        BorrowingStarts += o.BorrowingStarts;
        Preemptions += o.Preemptions;
        Reservations += o.Reservations;
        StartsBesideReservations += o.StartsBesideReservations;
        GuaranteeCases += o.GuaranteeCases;
        FollowUps += o.FollowUps;
        SkippedFollowUps += o.SkippedFollowUps;
    }

    public override string ToString() =>
        $"passes {Passes}, starts {Starts} (gangs {GangStarts}, borrowing {BorrowingStarts}, beside reservations {StartsBesideReservations}), " +
        $"preemptions {Preemptions}, reservations {Reservations}, invariant-4 cases {GuaranteeCases} (follow-ups {FollowUps}, overtaken {SkippedFollowUps})";
}
