using System.Globalization;
using System.Numerics;
using System.Text;

namespace Mekong.Policy.Tests.Properties;

/// <summary>The naive reference: plain lists and brute force over what the engine's public queries show
/// (<see cref="PolicyEngine.Jobs"/>, <see cref="PolicyEngine.Nodes"/>, <see cref="PolicyEngine.Accounts"/>)
/// and the account specs the test set. Every method recomputes from scratch; nothing is cached, so nothing
/// can drift. Each check returns the violations it found (empty: holds).</summary>
public static class ReferenceModel
{
    /// <summary>Running or stopping: the job holds GPUs.</summary>
    public static bool Holds(JobView j) => j.Status is JobStatus.Running or JobStatus.Terminating;

    /// <summary>Invariants 1 and 3: no GPU given twice, never a GPU of the wrong type, GPU indexes inside the
    /// node, nothing on a down node, node free masks equal to what the jobs leave; every holding job has
    /// exactly Nodes allocations of GpusPerNode GPUs on distinct nodes, and a pending job none.</summary>
    public static List<string> CheckAllocations(IReadOnlyList<JobView> jobs, IReadOnlyList<NodeView> nodes)
    {
        var errors = new List<string>();
        var byName = nodes.ToDictionary(n => n.Spec.Name);
        var taken = nodes.ToDictionary(n => n.Spec.Name, _ => 0UL);
        foreach (var j in jobs)
        {
            if (!Holds(j))
            {
                if (j.Allocations.Count != 0) errors.Add($"pending job {j.Spec.Id} has allocations");
                continue;
            }
            // Invariant 3: the whole gang or nothing.
            if (j.Allocations.Count != j.Spec.Nodes)
                errors.Add($"job {j.Spec.Id} wants {j.Spec.Nodes} nodes but holds {j.Allocations.Count}");
            if (j.Allocations.Select(a => a.Node).Distinct().Count() != j.Allocations.Count)
                errors.Add($"job {j.Spec.Id} holds one node twice");
            foreach (var a in j.Allocations)
            {
                if (a.GpuCount != j.Spec.GpusPerNode)
                    errors.Add($"job {j.Spec.Id} holds {a.GpuCount} GPUs on {a.Node}, wants {j.Spec.GpusPerNode}");
                if (!byName.TryGetValue(a.Node, out var node)) { errors.Add($"job {j.Spec.Id} on unknown node {a.Node}"); continue; }
                // Invariant 1: right type, real GPUs, never shared.
                if (node.Spec.GpuType != j.GpuType || (j.Spec.GpuType is { } want && want != node.Spec.GpuType))
                    errors.Add($"job {j.Spec.Id} ({j.Spec.GpuType ?? "any"}, recorded {j.GpuType}) on {node.Spec.GpuType} node {a.Node}");
                if ((a.GpuMask & ~FullMask(node.Spec.Gpus)) != 0)
                    errors.Add($"job {j.Spec.Id} holds GPU indexes {a.GpuMask:x} beyond {a.Node}'s {node.Spec.Gpus}");
                if ((taken[a.Node] & a.GpuMask) != 0)
                    errors.Add($"GPU(s) {taken[a.Node] & a.GpuMask:x} of {a.Node} given twice (job {j.Spec.Id})");
                if (node.State == NodeState.Down) errors.Add($"job {j.Spec.Id} holds GPUs on down node {a.Node}");
                taken[a.Node] |= a.GpuMask;
            }
        }
        foreach (var n in nodes)
        {
            var expected = FullMask(n.Spec.Gpus) & ~taken[n.Spec.Name];
            if (n.FreeGpuMask != expected)
                errors.Add($"node {n.Spec.Name} reports free {n.FreeGpuMask:x}, jobs leave {expected:x}");
        }
        return errors;
    }

    /// <summary>GPUs of each type held by the subtree of <paramref name="account"/> (path prefix), recomputed from the jobs.</summary>
    public static int Holding(IReadOnlyList<JobView> jobs, string account, string type, bool withinOnly = false) =>
        jobs.Where(j => Holds(j) && j.GpuType == type && InSubtree(j.Spec.Project, account) && (!withinOnly || !j.Borrowing))
            .Sum(j => j.Spec.TotalGpus);

    public static bool InSubtree(string project, string account) =>
        project == account || project.StartsWith(account + "/", StringComparison.Ordinal);

    /// <summary>Every ancestor of a project (including it), as paths.</summary>
    public static IEnumerable<string> PathOf(string project)
    {
        for (var p = project; p.Length > 0; p = p.Contains('/', StringComparison.Ordinal) ? p[..p.LastIndexOf('/')] : "")
            yield return p;
    }

    /// <summary>Invariant 2: no account on any path holds more than its limit; and the engine's own counters
    /// (<see cref="AccountView.Used"/>, <see cref="AccountView.WithinGuarantee"/>) agree with the jobs.</summary>
    public static List<string> CheckLimits(IReadOnlyList<JobView> jobs, IReadOnlyList<AccountSpec> specs, IReadOnlyList<AccountView> views, IReadOnlyList<string> types)
    {
        var errors = new List<string>();
        var viewByPath = views.ToDictionary(v => v.Path);
        foreach (var spec in specs)
        {
            foreach (var t in types)
            {
                var held = Holding(jobs, spec.Path, t);
                if (spec.Limit.TryGetValue(t, out var limit) && held > limit)
                    errors.Add($"account {spec.Path} holds {held} {t}, limit {limit}");
                var view = viewByPath[spec.Path];
                if (view.Used.GetValueOrDefault(t) != held)
                    errors.Add($"account {spec.Path} counter says {view.Used.GetValueOrDefault(t)} {t} held, jobs hold {held}");
                var within = Holding(jobs, spec.Path, t, withinOnly: true);
                if (view.WithinGuarantee.GetValueOrDefault(t) != within)
                    errors.Add($"account {spec.Path} counter says {view.WithinGuarantee.GetValueOrDefault(t)} {t} within guarantee, jobs hold {within}");
            }
        }
        return errors;
    }

    /// <summary>Whether the job would be guaranteed with type <paramref name="type"/>: every account on its
    /// path stays within its guarantee (counting running non-borrowing jobs) and within its limit (counting
    /// everything held).</summary>
    /// <param name="checkLimit">False to check the guarantee alone (a job waiting for its victims may be over a
    /// limit only because the victims still hold their GPUs).</param>
    public static bool Guaranteed(JobView job, string type, IReadOnlyList<JobView> jobs, IReadOnlyDictionary<string, AccountSpec> specs, bool checkLimit = true)
    {
        foreach (var a in PathOf(job.Spec.Project))
        {
            var spec = specs[a];
            if (Holding(jobs, a, type, withinOnly: true) + job.Spec.TotalGpus > spec.Guarantee.GetValueOrDefault(type)) return false;
            if (checkLimit && spec.Limit.TryGetValue(type, out var limit) && Holding(jobs, a, type) + job.Spec.TotalGpus > limit) return false;
        }
        return true;
    }

    /// <summary>The first pending job, in the order the guaranteed sweep visits them (projects in fair-share
    /// order; inside a project priority, then submit time, then id), that would be guaranteed: the
    /// guaranteed job no other decision of the pass can come before.</summary>
    public static JobView? FirstGuaranteed(IReadOnlyList<JobView> jobs, IReadOnlyList<string> fairOrder,
        IReadOnlyDictionary<string, AccountSpec> specs, IReadOnlyList<string> types)
    {
        foreach (var project in fairOrder)
        {
            var queue = jobs.Where(j => j.Status == JobStatus.Pending && j.Spec.Project == project && !j.Held)
                .OrderByDescending(j => j.Spec.Priority).ThenBy(j => j.Spec.SubmitTime).ThenBy(j => j.Spec.Id);
            foreach (var j in queue)
            {
                var candidates = j.Spec.GpuType is { } t ? [t] : types;
                if (candidates.Any(c => Guaranteed(j, c, jobs, specs))) return j;
            }
        }
        return null;
    }

    /// <summary>Whether the job's shape fits on up nodes of its type if every borrowing job of another project were gone (except
    /// borrowers that displaced this job earlier, which it may never take back: no preemption loops).
    /// Brute force: a node qualifies when its GPUs minus those held by non-borrowing (or protected) jobs
    /// leave GpusPerNode; the job fits when at least Nodes nodes qualify.</summary>
    public static bool FitsWithoutBorrowers(JobView job, IReadOnlyList<JobView> jobs, IReadOnlyList<NodeView> nodes, IReadOnlySet<JobId> protectedJobs,
        IReadOnlyList<Reservation> reclaimClaims)
    {
        var qualifying = 0;
        foreach (var n in nodes)
        {
            if (n.State != NodeState.Up || n.Spec.GpuType != job.Spec.GpuType) continue;
            var held = 0;
            foreach (var j in jobs)
            {
                // Reclaim takes from other projects' borrowers only (DESIGN: guarantee reclaim preempts across accounts).
                if (!Holds(j) || (j.Borrowing && j.Spec.Project != job.Spec.Project && !protectedJobs.Contains(j.Spec.Id))) continue;
                foreach (var a in j.Allocations)
                    if (a.Node == n.Spec.Name) held += a.GpuCount;
            }
            // A node that another job's victims are vacating is that job's: reclaim does not look there.
            if (reclaimClaims.Any(c => c.Nodes.Contains(n.Spec.Name))) continue;
            if (n.Spec.Gpus - held >= job.Spec.GpusPerNode) qualifying++;
        }
        return qualifying >= job.Spec.Nodes;
    }

    /// <summary>When a holding job's GPUs come back: at its walltime end, or at its kill time if it is being
    /// stopped, and never before now (the engine's own estimate).</summary>
    public static long ExpectedEnd(JobView j, long now, IReadOnlyDictionary<JobId, long> killTicks)
    {
        var end = j.Started!.Value.UtcTicks + j.Spec.Walltime.Ticks;
        if (killTicks.TryGetValue(j.Spec.Id, out var kill)) end = Math.Min(end, kill);
        return Math.Max(end, now);
    }

    /// <summary>Invariant 5: re-simulates forward from the state after the pass — running jobs (including
    /// the ones just started, by backfill or not) end at start + walltime or at their kill time — and checks
    /// that each reservation, in the order the pass made them, has its whole shape on its reserved nodes over
    /// [Start, Start + walltime), beside the claims of the reservations made before it. Free capacity only grows
    /// over time and claims only subtract inside their windows, so the instants to check are Start and every
    /// earlier claim's start inside the window.</summary>
    public static List<string> CheckReservations(SchedulingPlan plan, IReadOnlyList<JobView> jobs, IReadOnlyList<NodeView> nodes,
        long now, IReadOnlyDictionary<JobId, long> killTicks)
    {
        var errors = new List<string>();
        var byName = nodes.ToDictionary(n => n.Spec.Name);
        var byId = jobs.ToDictionary(j => j.Spec.Id);
        var claims = new List<(string Node, long Start, long End, int Gpus)>();
        foreach (var r in plan.Reservations)
        {
            if (!byId.TryGetValue(r.Job, out var job) || job.Status != JobStatus.Pending)
            {
                errors.Add($"reservation for {r.Job}, which is not pending");
                continue;
            }
            var start = r.Start.UtcTicks;
            var end = start + job.Spec.Walltime.Ticks;
            if (start < now) errors.Add($"reservation for {r.Job} starts in the past");
            if (r.Nodes.Count != job.Spec.Nodes || r.Nodes.Distinct().Count() != r.Nodes.Count || r.GpusPerNode != job.Spec.GpusPerNode)
                errors.Add($"reservation for {r.Job} is {r.Nodes.Count}×{r.GpusPerNode} on [{string.Join(",", r.Nodes)}], job is {job.Spec.Nodes}×{job.Spec.GpusPerNode}");
            foreach (var name in r.Nodes)
            {
                var node = byName[name];
                if (node.State != NodeState.Up) errors.Add($"reservation for {r.Job} on {node.State} node {name}");
                if (node.Spec.GpuType != r.GpuType || (job.Spec.GpuType is { } want && want != r.GpuType))
                    errors.Add($"reservation for {r.Job} ({job.Spec.GpuType ?? "any"}) on {node.Spec.GpuType} node {name}");
                var instants = claims.Where(c => c.Node == name && c.Start > start && c.Start < end).Select(c => c.Start).Prepend(start);
                foreach (var t in instants)
                {
                    var free = node.Spec.Gpus - HeldAt(name, t) - claims.Where(c => c.Node == name && c.Start <= t && t < c.End).Sum(c => c.Gpus);
                    if (free < r.GpusPerNode)
                        errors.Add($"reservation for {r.Job} needs {r.GpusPerNode} on {name} at {Ticks(t, now)}, only {free} left beside running jobs and earlier claims");
                }
            }
            foreach (var name in r.Nodes) claims.Add((name, start, end, r.GpusPerNode));
        }
        return errors;

        // A victim's GPUs count as back at its kill time even if the host has not reported it gone yet:
        // a reclaim reservation starts exactly then (at now, for a zero grace period).
        int HeldAt(string node, long t)
        {
            return jobs.Where(j => Holds(j) && ExpectedEnd(j, now, killTicks) > t)
                .Sum(j => j.Allocations.Where(a => a.Node == node).Sum(a => a.GpuCount));
        }
    }

    private static string Ticks(long t, long now) => $"now+{TimeSpan.FromTicks(t - now)}";

    /// <summary>Fair Tree by brute force: at each level siblings ranked by (shares/Σshares)/(usage/Σusage)
    /// descending (no usage: first), ties by shares descending then name (ordinal); depth-first, projects out.</summary>
    public static List<string> FairShareOrder(IReadOnlyList<AccountView> accounts)
    {
        var order = new List<string>();
        Walk("");
        return order;

        void Walk(string parent)
        {
            var children = accounts.Where(a => a.Path.Length > 0 && a.Spec!.ParentPath == parent).ToList();
            if (children.Count == 0)
            {
                if (parent.Length > 0) order.Add(parent);
                return;
            }
            long shares = 0;
            double usage = 0;
            foreach (var c in children)
            {
                shares += c.Spec!.Shares;
                usage += c.DecayedUsage;
            }
            var ranked = children
                .Select(c =>
                {
                    var s = (double)c.Spec!.Shares / shares;
                    var u = usage > 0 ? c.DecayedUsage / usage : 0;
                    return (Ratio: u > 0 ? s / u : double.PositiveInfinity, c.Spec.Shares, c.Spec.Name, c.Path);
                })
                .OrderByDescending(x => x.Ratio).ThenByDescending(x => x.Shares).ThenBy(x => x.Name, StringComparer.Ordinal)
                .ToList();
            foreach (var c in ranked) Walk(c.Path);
        }
    }

    /// <summary>A plan as text, for equality: starts with allocations, preemptions, and (optionally) reservations.</summary>
    public static string Describe(SchedulingPlan plan, bool reservations)
    {
        var sb = new StringBuilder();
        foreach (var s in plan.Starts)
            sb.Append(CultureInfo.InvariantCulture, $"start {s.Job} {s.GpuType}{(s.Borrowing ? " borrowing" : "")} on {string.Join(",", s.Allocations.Select(a => $"{a.Node}:{a.GpuMask:x}"))}; ");
        foreach (var p in plan.Preemptions)
            sb.Append(CultureInfo.InvariantCulture, $"preempt {p.Victim} for {p.For} ({p.Kind}, {p.GracePeriod}); ");
        if (reservations)
            foreach (var r in plan.Reservations)
                sb.Append(CultureInfo.InvariantCulture, $"reserve {r.Job} at {r.Start:O} {r.GpuType} {r.GpusPerNode}×[{string.Join(",", r.Nodes)}]; ");
        return sb.ToString();
    }

    private static ulong FullMask(int gpus) => gpus == 64 ? ulong.MaxValue : (1UL << gpus) - 1;

    /// <summary>Population count of a mask.</summary>
    public static int Count(ulong mask) => BitOperations.PopCount(mask);
}
