using Mekong.Policy;

namespace Mekong.Bench;

/// <summary>Per-event timings, split into the event call and the decision after it.</summary>
internal sealed class EventSamples
{
    public List<double> Total { get; } = [];
    public List<double> Submit { get; } = [];
    public List<double> Finish { get; } = [];
    public List<double> EventCall { get; } = [];
    public List<double> DecideCall { get; } = [];
    public List<double> Visited { get; } = [];
    public List<double> Skipped { get; } = [];
    public List<double> Attempts { get; } = [];
    public int Starts { get; private set; }
    public bool Truncated { get; set; }
    public int Preemptions { get; private set; }

    public void Add(bool submit, double eventUs, double decideUs, SchedulingPlan plan)
    {
        Total.Add(eventUs + decideUs);
        (submit ? Submit : Finish).Add(eventUs + decideUs);
        EventCall.Add(eventUs);
        DecideCall.Add(decideUs);
        Visited.Add(plan.Statistics.JobsVisited);
        Skipped.Add(plan.Statistics.ProjectsSkipped);
        Attempts.Add(plan.Statistics.PlacementAttempts);
        Starts += plan.Starts.Count;
        Preemptions += plan.Preemptions.Count;
    }

    public Dictionary<string, object> Profile(Dictionary<string, double> buildPhases) => new()
    {
        ["build_phase_s"] = buildPhases.ToDictionary(kv => kv.Key, kv => Stats.Round(kv.Value)),
        ["event_call_us_median"] = Stats.Round(Stats.Median(EventCall), 1),
        ["event_call_us_p99"] = Stats.Round(Stats.Percentile(EventCall, 99), 1),
        ["decide_us_median"] = Stats.Round(Stats.Median(DecideCall), 1),
        ["decide_us_p99"] = Stats.Round(Stats.Percentile(DecideCall, 99), 1),
        ["event_submit_us_median"] = Stats.Round(Stats.Median(Submit), 1),
        ["event_finish_us_median"] = Stats.Round(Stats.Median(Finish), 1),
        ["decide_jobs_visited_median"] = Stats.Median(Visited),
        ["decide_jobs_visited_p99"] = Stats.Percentile(Visited, 99),
        ["decide_groups_skipped_median"] = Stats.Median(Skipped),
        ["decide_placement_attempts_median"] = Stats.Median(Attempts),
        ["decide_placement_attempts_p99"] = Stats.Percentile(Attempts, 99),
        ["event_starts"] = Starts,
        ["event_preemptions"] = Preemptions,
    };
}
