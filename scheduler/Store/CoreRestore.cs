using Mekong.Policy;

namespace Mekong.Store;

/// <summary>Rebuilds a fresh policy core from a <see cref="StoreSnapshot"/>, in the order the core needs:
/// accounts (parents first), nodes, running jobs on their GPUs, node drain/down states, waiting jobs
/// (held ones held again), then each project's usage.</summary>
/// <remarks>Usage is restored as the core would have accrued it: GPU-seconds weighted per type and decayed
/// with the core's half-life, for runs that ended and for the part of open runs before now (the core
/// counts open runs from now on). Budget burn is the unweighted GPU-seconds inside the current period of
/// the nearest account on the project's path that has a budget.</remarks>
public static class CoreRestore
{
    public static void RestoreInto(this StoreSnapshot snapshot, PolicyEngine engine)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(engine);
        foreach (var account in snapshot.Accounts) engine.SetAccount(account);
        foreach (var node in snapshot.Nodes) engine.NodeUp(node.Spec);
        foreach (var job in snapshot.Running)
            engine.RestoreRunning(job.Spec, job.Allocations, job.StartTime ?? job.Spec.SubmitTime, job.Borrowing);
        foreach (var node in snapshot.Nodes)
        {
            if (node.State == NodeState.Draining) engine.NodeDrain(node.Spec.Name);
            else if (node.State == NodeState.Down) engine.NodeDown(node.Spec.Name);
        }
        foreach (var job in snapshot.Waiting)
        {
            engine.Submit(job.Spec);
            if (job.State == JobState.Held) engine.Hold(job.Id);
        }
        RestoreUsage(snapshot, engine);
    }

    private static void RestoreUsage(StoreSnapshot snapshot, PolicyEngine engine)
    {
        var now = engine.Now;
        var lambda = Math.Log(2) / engine.Settings.UsageHalfLife.TotalSeconds;
        var budgets = snapshot.Accounts.Where(a => a.Budget is not null).ToDictionary(a => a.Path, a => a.Budget!, StringComparer.Ordinal);
        var totals = new Dictionary<string, (double Decayed, double Budget)>(StringComparer.Ordinal);
        var known = snapshot.Accounts.Select(a => a.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var run in snapshot.Usage)
        {
            if (!known.Contains(run.Project)) continue; // a removed project's history stays for reports only
            var end = run.End ?? now;
            if (end <= run.Start) continue;
            var sinceEnd = Math.Max(0, (now - end).TotalSeconds);
            var sinceStart = Math.Max(0, (now - run.Start).TotalSeconds);
            // ∫ gpus·w·e^(−λ(now−t)) dt over the run: the core's continuous decay, closed form.
            var decayed = run.Gpus * engine.Settings.WeightOf(run.GpuType) * (Math.Exp(-lambda * sinceEnd) - Math.Exp(-lambda * sinceStart)) / lambda;
            var budgetSeconds = 0.0;
            if (NearestBudget(run.Project, budgets) is { } budget)
            {
                var periodStart = Budget.PeriodStart(budget.Period, now);
                var from = run.Start > periodStart ? run.Start : periodStart;
                if (end > from) budgetSeconds = run.Gpus * (end - from).TotalSeconds;
            }
            totals.TryGetValue(run.Project, out var t);
            totals[run.Project] = (t.Decayed + decayed, t.Budget + budgetSeconds);
        }
        foreach (var (project, t) in totals.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            engine.RestoreUsage(project, t.Decayed, t.Budget);
    }

    private static Budget? NearestBudget(string path, Dictionary<string, Budget> budgets)
    {
        for (var p = path; p.Length > 0; p = p.Contains('/', StringComparison.Ordinal) ? p[..p.LastIndexOf('/')] : "")
            if (budgets.TryGetValue(p, out var b)) return b;
        return null;
    }
}
