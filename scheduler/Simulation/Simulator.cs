using System.Diagnostics;
using Mekong.Simulation.Metrics;
using Mekong.Simulation.Schedulers;
using Mekong.Simulation.Setup;
using Mekong.Simulation.Trace;

namespace Mekong.Simulation;

/// <summary>Discrete-event replay of a trace through a scheduler on a simulated clock.</summary>
/// <remarks>
/// Events are ordered by time, then by the sequence they were created in, so a replay is deterministic.
/// Arrivals come straight from the submit-ordered trace (no need to heap 70,000 of them); completions and
/// preemption kills go through a binary heap. All events of one instant are applied before the scheduler
/// decides once — the way the server batches events between decisions.
/// </remarks>
public static class Simulator
{
    private enum EventKind : byte { Completion = 0, Kill = 1 }

    private readonly record struct Event(EventKind Kind, int Job, int Generation);

    public static SimulationResult Run(IReadOnlyList<TraceJob> trace, ClusterSpec cluster, AccountPlan accounts, SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(accounts);
        ArgumentNullException.ThrowIfNull(options);
        var wall = Stopwatch.StartNew();

        var tenants = trace.Select(j => j.Tenant).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var tenantIndex = tenants.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var projects = tenants.Select(t => accounts.TenantProjects[t]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var projectIndex = projects.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i, StringComparer.Ordinal);
        var guarantee = projects.Select(p => accounts.Accounts.First(a => a.Path == p).Guarantee).ToArray();

        var (jobs, unsatisfiable) = Shape(trace, cluster, options, tenantIndex, t => projectIndex[accounts.TenantProjects[t]]);
        var clock = new SimulatedClock();
        IReplayScheduler scheduler = options.Policy == ReplayPolicy.Fifo
            ? new FifoReplayScheduler(cluster)
            : new MekongReplayScheduler(cluster, accounts, options.Settings, clock, jobs, projects);
        var meter = new FairnessMeter([.. tenants.Select(accounts.WeightOf)], cluster.TotalGpus);
        var projectDemand = new long[projects.Length];

        var events = new PriorityQueue<Event, (long Time, long Seq)>();
        long seq = 0;
        var started = new List<SimJob>();
        var preempted = new List<(SimJob Victim, long GraceS)>();
        var next = 0;
        var preemptions = 0;
        var decisions = 0;
        long lastEnd = 0;
        var finished = 0;
        double lostGpuSeconds = 0;
        var core = new Stopwatch();

        while (next < jobs.Length || events.Count > 0)
        {
            var now = long.MaxValue;
            if (next < jobs.Length) now = jobs[next].Trace.SubmitS;
            if (events.TryPeek(out _, out var head) && head.Time < now) now = head.Time;
            meter.AdvanceTo(now);
            clock.AdvanceTo(now);

            // 1. Completions and kills due now, in creation order.
            while (events.TryPeek(out var ev, out var at) && at.Time == now)
            {
                events.Dequeue();
                var job = jobs[ev.Job];
                if (job.Generation != ev.Generation || !job.Running) continue;
                job.Running = false;
                job.Generation++;
                var completed = ev.Kind == EventKind.Completion;
                if (completed)
                {
                    job.EndS = now;
                    lastEnd = Math.Max(lastEnd, now);
                    finished++;
                    projectDemand[job.Project] -= job.Gpus;
                }
                else
                {
                    // Killed after its grace period: the work since the last checkpoint is lost.
                    var done = Math.Min(now - job.StartS, job.RemainingS);
                    var saved = options.CheckpointEveryS > 0 ? done / options.CheckpointEveryS * options.CheckpointEveryS : 0;
                    job.RemainingS -= saved;
                    lostGpuSeconds += (double)(now - job.StartS - saved) * job.Gpus;
                    job.Preemptions++;
                    preemptions++;
                }
                meter.Stop(job.Tenant, job.Gpus, completed);
                core.Start();
                scheduler.Finish(job, completed);
                core.Stop();
            }

            // 2. Arrivals at this instant, in trace order.
            for (; next < jobs.Length && jobs[next].Trace.SubmitS == now; next++)
            {
                var job = jobs[next];
                projectDemand[job.Project] += job.Gpus;
                job.GuaranteedAtSubmit = WithinGuarantee(guarantee[job.Project], job, projectDemand[job.Project]);
                meter.Arrive(job.Tenant, job.Gpus);
                core.Start();
                scheduler.Submit(job);
                core.Stop();
            }

            // 3. One decision for the batch.
            started.Clear();
            preempted.Clear();
            core.Start();
            scheduler.Decide(started, preempted);
            core.Stop();
            decisions++;
            foreach (var job in started)
            {
                job.Running = true;
                job.StartS = now;
                meter.Start(job.Tenant, job.Gpus);
                events.Enqueue(new Event(EventKind.Completion, job.Index, job.Generation), (now + job.RemainingS, seq++));
            }
            foreach (var (victim, grace) in preempted)
                events.Enqueue(new Event(EventKind.Kill, victim.Index, victim.Generation), (now + grace, seq++));
        }
        wall.Stop();
        var result = Summarise(options.Name, jobs, tenants, meter, cluster.TotalGpus, lastEnd, preemptions, unsatisfiable, jobs.Length - finished, wall.Elapsed.TotalSeconds);
        return result with { SchedulerS = core.Elapsed.TotalSeconds, Decisions = decisions, PreemptedGpuHours = lostGpuSeconds / 3600 };
    }

    private static bool WithinGuarantee(IReadOnlyDictionary<string, int> guarantee, SimJob job, long projectDemand)
    {
        var g = job.GpuType is null ? guarantee.Values.Sum() : guarantee.GetValueOrDefault(job.GpuType);
        return projectDemand <= g;
    }

    /// <summary>Maps trace jobs onto the cluster: a job with more GPUs than a node holds becomes a gang of
    /// ceil(gpus/G) nodes × G (G = the largest node), unless the trace's node count divides its GPUs evenly.
    /// Jobs no node set of the cluster could ever hold are counted and left out.</summary>
    private static (SimJob[] Jobs, int Unsatisfiable) Shape(IReadOnlyList<TraceJob> trace, ClusterSpec cluster, SimulationOptions options,
        Dictionary<string, int> tenantIndex, Func<string, int> projectOf)
    {
        var singleType = cluster.GpusByType.Count == 1;
        var g = cluster.MaxGpusPerNode;
        var list = new List<SimJob>(trace.Count);
        var unsatisfiable = 0;
        foreach (var t in trace)
        {
            int nodes, perNode;
            if (t.Nodes > 0 && t.Gpus % t.Nodes == 0 && t.Gpus / t.Nodes <= g) { nodes = t.Nodes; perNode = t.Gpus / t.Nodes; }
            else if (t.Gpus <= g) { nodes = 1; perNode = t.Gpus; }
            else { nodes = (t.Gpus + g - 1) / g; perNode = g; }
            var type = singleType || t.GpuType is null ? null : t.GpuType;
            if (type is not null && !cluster.GpusByType.ContainsKey(type))
                throw new SimulationInputException($"job {t.JobId} asks for GPU type '{type}', which the cluster does not have");
            var fitting = cluster.Nodes.Count(n => n.Gpus >= perNode && (type is null || n.GpuType == type));
            if (fitting < nodes) { unsatisfiable++; continue; }
            list.Add(new SimJob(list.Count, t, tenantIndex[t.Tenant], projectOf(t.Tenant), nodes, perNode,
                Math.Max(1, options.Walltime.LimitSeconds(t.DurationS)), type));
        }
        return ([.. list], unsatisfiable);
    }

    private static SimulationResult Summarise(string name, SimJob[] jobs, string[] tenants, FairnessMeter meter, int gpus,
        long makespan, int preemptions, int unsatisfiable, int unfinished, double wallS)
    {
        var done = jobs.Where(j => j.EndS >= 0).ToArray();
        var outcomes = done.Select(j => new JobOutcome(j.Trace.JobId, j.Trace.Tenant, j.Trace.SubmitS, j.StartS, j.EndS, j.Gpus, j.Preemptions, j.GuaranteedAtSubmit)).ToArray();
        var waits = outcomes.Select(o => o.WaitS).Order().ToArray();
        var reclaim = outcomes.Where(o => o.GuaranteedAtSubmit).Select(o => o.WaitS).Order().ToArray();
        var clusterSeconds = (double)gpus * Math.Max(1, makespan);
        var perTenant = new List<TenantResult>();
        for (var i = 0; i < tenants.Length; i++)
        {
            var mine = done.Where(j => j.Tenant == i).ToArray();
            var w = mine.Select(j => j.StartS - j.Trace.SubmitS).Order().ToArray();
            perTenant.Add(new TenantResult(tenants[i], mine.Length, mine.Sum(j => j.Gpus * (double)j.Trace.DurationS) / 3600.0,
                Stats.Mean(w), Stats.Percentile(w, 0.99), meter.ReceivedGpuSeconds[i] / clusterSeconds, meter.EntitledGpuSeconds[i] / clusterSeconds)
            {
                RatioUnderContention = meter.RatioWeight[i] > 0 ? meter.RatioWeighted[i] / meter.RatioWeight[i] : double.NaN,
            });
        }
        return new SimulationResult(
            name, done.Length, unsatisfiable, unfinished, wallS, makespan,
            meter.BusyGpuSeconds / clusterSeconds,
            Stats.Mean(waits), Stats.Percentile(waits, 0.5), Stats.Percentile(waits, 0.99),
            Stats.Mean(outcomes.Select(o => o.JctS).ToArray()),
            preemptions,
            meter.ContentionWeight > 0 ? meter.JainWeighted / meter.ContentionWeight : 1.0,
            Stats.Percentile(reclaim, 0.99), reclaim.Length,
            perTenant, outcomes);
    }
}
