using System.Text;
using System.Text.Json;
using Mekong.Simulation.Metrics;

namespace Mekong.Simulation.Output;

/// <summary>The machine-readable result: one JSON object on one line (the last line of stdout with <c>--json</c>).</summary>
public static class ResultJson
{
    public static string Write(SimulationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Render(w => WriteResult(w, result));
    }

    /// <summary>Several runs side by side: an object keyed by run name, in run order.</summary>
    public static string Write(IReadOnlyList<SimulationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return Render(w =>
        {
            w.WriteStartObject();
            foreach (var r in results)
            {
                w.WritePropertyName(r.Name);
                WriteResult(w, r);
            }
            w.WriteEndObject();
        });
    }

    private static string Render(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
            body(w);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteResult(Utf8JsonWriter w, SimulationResult r)
    {
        w.WriteStartObject();
        w.WriteString("policy", r.Name);
        w.WriteNumber("jobs", r.Jobs);
        w.WriteNumber("unsatisfiable", r.Unsatisfiable);
        w.WriteNumber("unfinished", r.Unfinished);
        w.WriteNumber("wall_s", Math.Round(r.WallS, 3));
        w.WriteNumber("makespan_s", r.MakespanS);
        w.WriteNumber("utilization", Math.Round(r.Utilization, 4));
        w.WriteNumber("wait_s_mean", Math.Round(r.WaitMeanS, 1));
        w.WriteNumber("wait_s_p50", r.WaitP50S);
        w.WriteNumber("wait_s_p99", r.WaitP99S);
        w.WriteNumber("jct_s_mean", Math.Round(r.JctMeanS, 1));
        w.WriteNumber("preemptions", r.Preemptions);
        w.WriteNumber("jain_fairness", Math.Round(r.JainFairness, 4));
        w.WriteNumber("reclaim_s_p99", r.ReclaimP99S);
        w.WriteNumber("reclaim_jobs", r.ReclaimJobs);
        w.WriteNumber("preempted_gpu_hours", Math.Round(r.PreemptedGpuHours, 1));
        w.WriteNumber("scheduler_s", Math.Round(r.SchedulerS, 3));
        w.WriteNumber("decisions", r.Decisions);
        w.WriteStartObject("per_tenant");
        foreach (var t in r.PerTenant)
        {
            w.WriteStartObject(t.Tenant);
            w.WriteNumber("jobs", t.Jobs);
            w.WriteNumber("gpu_hours", Math.Round(t.GpuHours, 1));
            w.WriteNumber("wait_mean", Math.Round(t.WaitMeanS, 1));
            w.WriteNumber("wait_p99", t.WaitP99S);
            w.WriteNumber("share_received", Math.Round(t.ShareReceived, 4));
            w.WriteNumber("share_entitled", Math.Round(t.ShareEntitled, 4));
            if (!double.IsNaN(t.RatioUnderContention)) w.WriteNumber("ratio_contended", Math.Round(t.RatioUnderContention, 3));
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
