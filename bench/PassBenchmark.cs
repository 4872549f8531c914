using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Mekong.Policy;

namespace Mekong.Bench;

/// <summary>Times the full pass (<see cref="PolicyEngine.Schedule"/>) and the incremental decision after one
/// event (<see cref="PolicyEngine.Decide"/>) on a synthetic cluster; the last stdout line is the JSON result.</summary>
internal sealed class PassBenchmark(BenchOptions o)
{
    private readonly List<JobId> _victims = [];
    private SyntheticCluster _c = null!;

    public int Run()
    {
        var sw = Stopwatch.StartNew();
        _c = SyntheticCluster.Build(o);
        var buildS = sw.Elapsed.TotalSeconds;
        var engine = _c.Engine;
        var runningInitial = engine.RunningCount;
        var pendingInitial = engine.PendingCount;
        Console.WriteLine($"built in {buildS:F2} s: {o.Nodes} nodes x {o.GpusPerNode} GPUs, {o.Projects} projects, " +
            $"{engine.RunningCount} running ({_c.RunningBorrowing} borrowing, {_c.RunningDropped} dropped), " +
            $"{_c.GpusRunning}/{_c.GpusTotal} GPUs busy ({100.0 * _c.GpusRunning / _c.GpusTotal:F1}%), {engine.PendingCount} pending");
        if (o.Profile)
            Console.WriteLine("  build phases: " + string.Join(", ", _c.PhaseSeconds.Select(kv => $"{kv.Key} {kv.Value:F2} s")));

        // Warm-up pass: fills the idle capacity left by the restore; not counted.
        sw.Restart();
        var first = engine.Schedule();
        var firstMs = sw.Elapsed.TotalMilliseconds;
        Apply(first);
        Console.WriteLine($"first pass {firstMs:F1} ms: {first.Starts.Count} starts, {first.Preemptions.Count} preemptions, " +
            $"{first.Reservations.Count} reservations; visited {first.Statistics.JobsVisited}, placement attempts {first.Statistics.PlacementAttempts}");

        var pass = new List<double>();
        var starts = new List<double>();
        var preempts = new List<double>();
        var allocMb = new List<double>();
        var visited = new List<double>();
        var attempts = new List<double>();
        var gc0 = GC.CollectionCount(0);
        var gc2 = GC.CollectionCount(2);
        for (var r = 0; r < o.Repeat; r++)
        {
            Churn(o.EffectiveChurn, TimeSpan.FromSeconds(30));
            var alloc = GC.GetAllocatedBytesForCurrentThread();
            sw.Restart();
            var plan = engine.Schedule();
            var ms = sw.Elapsed.TotalMilliseconds;
            allocMb.Add((GC.GetAllocatedBytesForCurrentThread() - alloc) / 1048576.0);
            pass.Add(ms);
            starts.Add(plan.Starts.Count);
            preempts.Add(plan.Preemptions.Count);
            visited.Add(plan.Statistics.JobsVisited);
            attempts.Add(plan.Statistics.PlacementAttempts);
            Apply(plan);
            Console.WriteLine($"pass {r + 1}/{o.Repeat}: {ms:F1} ms, {plan.Starts.Count} starts, {plan.Preemptions.Count} preemptions, " +
                $"{plan.Reservations.Count} reservations, pending {plan.Statistics.PendingJobs}, visited {plan.Statistics.JobsVisited}, " +
                $"attempts {plan.Statistics.PlacementAttempts}, allocated {allocMb[^1]:F1} MiB");
        }
        var passGc0 = GC.CollectionCount(0) - gc0;
        var passGc2 = GC.CollectionCount(2) - gc2;

        var eventGc0 = GC.CollectionCount(0);
        var eventAlloc = GC.GetAllocatedBytesForCurrentThread();
        var ev = RunEvents();
        eventGc0 = GC.CollectionCount(0) - eventGc0;
        var eventAllocKb = (GC.GetAllocatedBytesForCurrentThread() - eventAlloc) / 1024.0 / Math.Max(1, o.EventWarmup + ev.Total.Count);
        var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

        Console.WriteLine($"pass ms: median {Stats.Median(pass):F1}, p99 {Stats.Percentile(pass, 99):F1}; " +
            $"event us: median {Stats.Median(ev.Total):F1}, p99 {Stats.Percentile(ev.Total, 99):F1}; peak working set {peakMb:F0} MiB");

        var result = new Dictionary<string, object?>
        {
            ["benchmark"] = "pass",
            ["nodes"] = o.Nodes,
            ["gpus_per_node"] = o.GpusPerNode,
            ["projects"] = o.Projects,
            ["pending"] = o.Pending,
            ["running"] = o.Running,
            ["repeat"] = o.Repeat,
            ["seed"] = o.Seed,
            ["churn"] = o.EffectiveChurn,
            ["priority_preemption_pct"] = o.PriorityPreemptionPercent,
            ["build_s"] = Stats.Round(buildS),
            ["first_pass_ms"] = Stats.Round(firstMs),
            ["first_pass_starts"] = first.Starts.Count,
            ["pass_ms_median"] = Stats.Round(Stats.Median(pass)),
            ["pass_ms_p99"] = Stats.Round(Stats.Percentile(pass, 99)),
            ["pass_ms_min"] = Stats.Round(pass.Min()),
            ["pass_ms_max"] = Stats.Round(pass.Max()),
            ["starts_per_pass"] = Stats.Round(starts.Average(), 1),
            ["preemptions_per_pass"] = Stats.Round(preempts.Average(), 1),
            ["jobs_visited_per_pass"] = Stats.Round(visited.Average(), 0),
            ["placement_attempts_per_pass"] = Stats.Round(attempts.Average(), 0),
            ["allocated_mb_per_pass"] = Stats.Round(allocMb.Average(), 1),
            ["gc_gen0_during_passes"] = passGc0,
            ["gc_gen2_during_passes"] = passGc2,
            ["event_samples"] = ev.Total.Count,
            ["event_samples_truncated"] = ev.Truncated,
            ["event_us_median"] = Stats.Round(Stats.Median(ev.Total), 1),
            ["event_us_p99"] = Stats.Round(Stats.Percentile(ev.Total, 99), 1),
            ["event_us_max"] = Stats.Round(ev.Total.Count == 0 ? 0 : ev.Total.Max(), 1),
            ["event_allocated_kb_mean"] = Stats.Round(eventAllocKb, 1),
            ["gc_gen0_during_events"] = eventGc0,
            ["event_submit_us_p99"] = Stats.Round(Stats.Percentile(ev.Submit, 99), 1),
            ["event_finish_us_p99"] = Stats.Round(Stats.Percentile(ev.Finish, 99), 1),
            ["pending_after"] = engine.PendingCount,
            ["running_after"] = engine.RunningCount,
            ["running_initial"] = runningInitial,
            ["pending_initial"] = pendingInitial,
            ["running_borrowing_initial"] = _c.RunningBorrowing,
            ["running_dropped"] = _c.RunningDropped,
            ["gpus_total"] = _c.GpusTotal,
            ["gpus_running_initial"] = _c.GpusRunning,
            ["peak_working_set_mb"] = Stats.Round(peakMb, 1),
        };
        if (o.Profile) result["profile"] = ev.Profile(_c.PhaseSeconds);
        var json = JsonSerializer.Serialize(result);
        Console.WriteLine(o.Json ? json : $"result: {json}");
        return 0;
    }

    /// <summary>Between passes: time moves, some running jobs end and as many new jobs arrive, and jobs
    /// preempted by the last decision end (they go back to pending).</summary>
    private void Churn(int n, TimeSpan advance)
    {
        _c.Clock.Advance(advance);
        foreach (var v in _victims) _c.Engine.Finish(v);
        _victims.Clear();
        for (var i = 0; i < n && _c.Running.Count > 0; i++)
        {
            _c.Engine.Finish(_c.Running.TakeAt(_c.NextRandom(_c.Running.Count)));
            _c.Engine.Submit(_c.NewJob(_c.Clock.GetUtcNow()));
        }
    }

    /// <summary>One event's plan as a line: starts with their nodes, preemptions, reservations with their starts.</summary>
    private static string Describe(int i, SchedulingPlan plan) => string.Create(CultureInfo.InvariantCulture,
        $"{i} starts=[{string.Join(",", plan.Starts.Select(s => $"{s.Job.Value}@{string.Join("+", s.Allocations.Select(a => a.Node))}"))}] " +
        $"preemptions=[{string.Join(",", plan.Preemptions.Select(p => $"{p.Victim.Value}>{p.For.Value}"))}] " +
        $"reservations=[{string.Join(",", plan.Reservations.Select(r => $"{r.Job.Value}@{r.Start.UtcTicks}"))}]");

    private void Apply(SchedulingPlan plan)
    {
        foreach (var s in plan.Starts) _c.Running.Add(s.Job);
        foreach (var p in plan.Preemptions)
        {
            _c.Running.Remove(p.Victim);
            _victims.Add(p.Victim);
        }
    }

    private EventSamples RunEvents()
    {
        var ev = new EventSamples();
        var engine = _c.Engine;
        var total = o.EventWarmup + o.Events;
        var budget = Stopwatch.StartNew();
        using var plans = o.PlansOut is { } path ? new StreamWriter(path) : null;
        for (var i = 0; i < total; i++)
        {
            // Warm-up gets at most a quarter of the budget; the rest is for measured samples.
            if (i < o.EventWarmup && budget.Elapsed.TotalSeconds > o.EventBudgetSeconds / 4.0)
            {
                Console.WriteLine($"events: warm-up cut to {i} events (over a quarter of the budget)");
                i = o.EventWarmup;
                total = i + o.Events;
                budget.Restart();
            }
            if (budget.Elapsed.TotalSeconds > o.EventBudgetSeconds)
            {
                Console.WriteLine($"events: stopped after {i} events, over the {o.EventBudgetSeconds} s budget");
                ev.Truncated = true;
                break;
            }
            _c.Clock.Advance(TimeSpan.FromMilliseconds(500));
            var submit = i % 2 == 0;
            JobSpec? spec = submit ? _c.NewJob(_c.Clock.GetUtcNow()) : null;
            JobId victim = default;
            if (!submit)
            {
                // The host reports preempted jobs' ends first; otherwise a random running job ends.
                if (_victims.Count > 0) { victim = _victims[^1]; _victims.RemoveAt(_victims.Count - 1); }
                else if (_c.Running.Count > 0) victim = _c.Running.TakeAt(_c.NextRandom(_c.Running.Count));
            }
            var t0 = Stopwatch.GetTimestamp();
            if (submit) engine.Submit(spec!);
            else engine.Finish(victim);
            var t1 = Stopwatch.GetTimestamp();
            var plan = o.EventsByFullPass ? engine.Schedule() : engine.Decide();
            var t2 = Stopwatch.GetTimestamp();
            plans?.WriteLine(Describe(i, plan));
            Apply(plan);
            if (i < o.EventWarmup) continue;
            ev.Add(submit, Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds, plan);
        }
        Console.WriteLine($"events: {ev.Total.Count} samples after {o.EventWarmup} warm-up; starts {ev.Starts}, preemptions {ev.Preemptions}");
        return ev;
    }
}
