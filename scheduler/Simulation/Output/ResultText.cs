using System.Globalization;
using System.Text;
using Mekong.Simulation.Metrics;

namespace Mekong.Simulation.Output;

/// <summary>The human summary: one column per run, so settings or policies read side by side.</summary>
public static class ResultText
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Write(IReadOnlyList<SimulationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var rows = new List<(string Label, Func<SimulationResult, string> Value)>
        {
            ("jobs", r => r.Jobs.ToString(Inv) + (r.Unfinished > 0 ? $" ({r.Unfinished} unfinished)" : "") + (r.Unsatisfiable > 0 ? $" ({r.Unsatisfiable} never fit)" : "")),
            ("wall time", r => r.WallS.ToString("0.00", Inv) + " s"),
            ("  in scheduler", r => r.SchedulerS.ToString("0.00", Inv) + " s"),
            ("makespan", r => Duration(r.MakespanS)),
            ("utilization", r => Pct(r.Utilization)),
            ("wait mean", r => Duration(r.WaitMeanS)),
            ("wait p50", r => Duration(r.WaitP50S)),
            ("wait p99", r => Duration(r.WaitP99S)),
            ("JCT mean", r => Duration(r.JctMeanS)),
            ("preemptions", r => r.Preemptions.ToString(Inv)),
            ("lost to preempt", r => r.PreemptedGpuHours.ToString("0", Inv) + " GPU-h"),
            ("Jain fairness", r => r.JainFairness.ToString("0.000", Inv)),
            ("reclaim p99", r => Duration(r.ReclaimP99S) + $" ({r.ReclaimJobs.ToString(Inv)} jobs)"),
        };
        var sb = new StringBuilder();
        var width = Math.Max(16, results.Max(r => Math.Max(r.Name.Length, rows.Max(x => x.Value(r).Length))) + 2);
        sb.Append("".PadRight(16));
        foreach (var r in results) sb.Append(r.Name.PadLeft(width));
        sb.Append('\n');
        foreach (var (label, value) in rows)
        {
            sb.Append(label.PadRight(16));
            foreach (var r in results) sb.Append(value(r).PadLeft(width));
            sb.Append('\n');
        }
        sb.Append('\n');
        foreach (var r in results)
        {
            sb.Append(CultureInfo.InvariantCulture, $"per tenant — {r.Name}\n");
            sb.Append(CultureInfo.InvariantCulture, $"  {"tenant",-16}{"jobs",8}{"GPU-h",11}{"wait mean",11}{"wait p99",11}{"received",10}{"entitled",10}{"ratio*",8}\n");
            foreach (var t in r.PerTenant)
                sb.Append(CultureInfo.InvariantCulture,
                    $"  {t.Tenant,-16}{t.Jobs,8}{t.GpuHours.ToString("0", Inv),11}{Duration(t.WaitMeanS),11}{Duration(t.WaitP99S),11}{Pct(t.ShareReceived),10}{Pct(t.ShareEntitled),10}{t.RatioUnderContention.ToString("0.00", Inv),8}\n");
        }
        return sb.ToString();
    }

    private static string Pct(double x) => (x * 100).ToString("0.0", Inv) + "%";

    public static string Duration(double seconds) => seconds switch
    {
        < 120 => seconds.ToString("0", Inv) + " s",
        < 7200 => (seconds / 60).ToString("0.0", Inv) + " min",
        < 172800 => (seconds / 3600).ToString("0.0", Inv) + " h",
        _ => (seconds / 86400).ToString("0.0", Inv) + " d",
    };
}
