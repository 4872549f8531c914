using System.Globalization;

namespace Mekong.Bench;

/// <summary>Command-line parameters of the <c>pass</c> benchmark.</summary>
internal sealed record BenchOptions
{
    public int Nodes { get; init; } = 10_000;
    public int GpusPerNode { get; init; } = 8;
    public int Projects { get; init; } = 1_000;
    public int Pending { get; init; } = 100_000;
    public int Running { get; init; } = 60_000;
    public int Repeat { get; init; } = 20;
    public int Events { get; init; } = 2_000;
    public int EventWarmup { get; init; } = 1_000;
    /// <summary>Running jobs finished (and as many new jobs submitted) between two measured passes; -1: 1% of running.</summary>
    public int Churn { get; init; } = -1;
    public int Seed { get; init; } = 42;
    /// <summary>Percent of projects that allow priority preemption (high preempts the project's own low jobs).</summary>
    public int PriorityPreemptionPercent { get; init; } = 20;
    /// <summary>Wall-clock cap on the event phase (seconds): sampling stops early when a decision is very slow.</summary>
    public int EventBudgetSeconds { get; init; } = 60;
    public bool Json { get; init; }
    public bool Profile { get; init; }
    /// <summary>Events decided by full passes instead of Decide(): with <see cref="PlansOut"/>, a check that both agree.</summary>
    public bool EventsByFullPass { get; init; }
    /// <summary>A file for each event's plan (starts with their nodes, preemptions, reservations), one line each.</summary>
    public string? PlansOut { get; init; }

    public int EffectiveChurn => Churn >= 0 ? Churn : Math.Max(1, Running / 100);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            int Next() => int.Parse(Text(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            string Text() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{a} needs a value");
            o = a switch
            {
                "--nodes" => o with { Nodes = Next() },
                "--gpus-per-node" => o with { GpusPerNode = Next() },
                "--projects" => o with { Projects = Next() },
                "--pending" => o with { Pending = Next() },
                "--running" => o with { Running = Next() },
                "--repeat" => o with { Repeat = Next() },
                "--events" => o with { Events = Next() },
                "--event-warmup" => o with { EventWarmup = Next() },
                "--churn" => o with { Churn = Next() },
                "--seed" => o with { Seed = Next() },
                "--priority-preemption-pct" => o with { PriorityPreemptionPercent = Next() },
                "--event-budget-s" => o with { EventBudgetSeconds = Next() },
                "--json" => o with { Json = true },
                "--profile" => o with { Profile = true },
                "--events-by-full-pass" => o with { EventsByFullPass = true },
                "--plans-out" => o with { PlansOut = Text() },
                _ => throw new ArgumentException($"unknown option {a}"),
            };
        }
        if (o.Nodes < 1 || o.GpusPerNode is < 1 or > 64 || o.Projects < 1 || o.Pending < 0 || o.Running < 0 || o.Repeat < 1 || o.Events < 0)
            throw new ArgumentException("sizes must be positive (gpus-per-node 1..64)");
        return o;
    }
}
