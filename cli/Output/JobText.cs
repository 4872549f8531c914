using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Cli.Input;

namespace Mekong.Cli.Output;

/// <summary>How jobs, times and explanations read in tables and in <c>show</c> / <c>why</c>.</summary>
internal static class JobText
{
    /// <summary>The job's shape: <c>8 h100</c> for one node, <c>4x8 h100</c> for a gang, <c>2 any</c> without a type.</summary>
    public static string Shape(JobSpec? spec)
    {
        if (spec is null) return "";
        var nodes = Math.Max(1u, spec.Nodes);
        var type = spec.GpuType.Length == 0 ? "any" : spec.GpuType;
        return nodes == 1 ? $"{spec.GpusPerNode} {type}" : $"{nodes}x{spec.GpusPerNode} {type}";
    }

    /// <summary>A point in time in UTC, to the second: <c>2025-06-01 14:00:05Z</c>.</summary>
    public static string Time(Timestamp? time) =>
        time is null ? "" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Relative to now: <c>in 2h10m</c>, <c>5m ago</c>, <c>now</c>.</summary>
    public static string Relative(Timestamp? time, DateTimeOffset now)
    {
        if (time is null) return "";
        var delta = time.ToDateTimeOffset() - now;
        if (Math.Abs(delta.TotalSeconds) < 1) return "now";
        return delta > TimeSpan.Zero ? "in " + DurationText.FormatCoarse(delta) : DurationText.FormatCoarse(delta) + " ago";
    }

    /// <summary>Both: <c>2025-06-01 14:00:05Z (in 2h10m)</c>.</summary>
    public static string TimeAndRelative(Timestamp? time, DateTimeOffset now) =>
        time is null ? "" : $"{Time(time)} ({Relative(time, now)})";

    /// <summary>The START column of <c>queue</c>: the estimated start of a pending job, when a running job started.</summary>
    public static string StartColumn(Job job, DateTimeOffset now) => job.State switch
    {
        JobState.Pending or JobState.Held or JobState.Preempted => job.Explanation?.EstimatedStart is { } est ? Relative(est, now) : "",
        _ => Relative(job.StartTime, now),
    };

    /// <summary>The reason in one phrase: <c>quota-limit: project uni-a/vision at 32/32 h100</c>.</summary>
    public static string Reason(Explanation? explanation)
    {
        if (explanation is null) return "";
        var code = explanation.ReasonCode.Length > 0 ? explanation.ReasonCode : EnumWords.Of(explanation.Reason);
        // The server's message may already begin with the code ("resources: 16/16 h100 in use").
        return explanation.Message.Length == 0 ? code
            : code.Length == 0 || explanation.Message.StartsWith(code, StringComparison.Ordinal) ? explanation.Message
            : $"{code}: {explanation.Message}";
    }

    /// <summary>The numbers behind an explanation, as "name: value" lines (only those that are set).</summary>
    public static IEnumerable<(string Name, string Value)> Numbers(Explanation explanation, DateTimeOffset now)
    {
        if (explanation.Account.Length > 0) yield return ("account", explanation.Account);
        if (explanation.GpusBound > 0 || explanation.GpusInUse > 0)
        {
            var type = explanation.GpuType.Length > 0 ? " " + explanation.GpuType : "";
            yield return ("gpus in use", $"{explanation.GpusInUse}/{explanation.GpusBound}{type}");
        }
        else if (explanation.GpuType.Length > 0)
        {
            yield return ("gpu type", explanation.GpuType);
        }

        if (explanation.GpusRequested > 0) yield return ("gpus requested", explanation.GpusRequested.ToString(CultureInfo.InvariantCulture));
        if (explanation.BudgetGpuHours > 0 || explanation.BudgetUsedGpuHours > 0)
        {
            yield return ("budget", string.Create(CultureInfo.InvariantCulture, $"{explanation.BudgetUsedGpuHours:0.#}/{explanation.BudgetGpuHours:0.#} GPU-hours"));
        }

        yield return ("jobs ahead", explanation.JobsAhead.ToString(CultureInfo.InvariantCulture));
        yield return ("estimated start", explanation.EstimatedStart is { } est ? TimeAndRelative(est, now) : "unknown");
        if (explanation.ComputedAt is { } at) yield return ("computed", TimeAndRelative(at, now));
    }

    public static string Duration(Duration? duration) => duration is null ? "" : DurationText.Format(duration.ToTimeSpan());

    /// <summary>An argv as a shell would need it typed.</summary>
    public static string Command(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c, StringComparison.Ordinal))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
