using System.Globalization;
using Mekong.Policy;

namespace Mekong.Simulation.Setup;

/// <summary>Applies <c>--set key=value</c> overrides to <see cref="PolicySettings"/> (<c>mekong server</c>'s and
/// <c>mekong simulate</c>'s), so an admin can set and compare settings without a file. Keys: <c>halfLife</c>
/// (a duration: 3d, 12h, 90m, 45s), <c>reservations</c>,
/// <c>maxPreemptions</c>, <c>borrowBeyondFairShare</c> (a factor, 0 = off),
/// <c>borrowAnySizeBelowShare</c> (a positive factor), <c>reclaimVictimOrder</c> (fair-share or least-work-lost), <c>weight.TYPE</c> (fair-share weight of a GPU type).</summary>
public static class SettingsOverrides
{
    public static PolicySettings Apply(PolicySettings settings, IEnumerable<string> overrides)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(overrides);
        foreach (var item in overrides)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new SimulationInputException($"--set '{item}': expected key=value");
            var key = item[..eq].Trim();
            var value = item[(eq + 1)..].Trim();
            settings = key.ToLowerInvariant() switch
            {
                "halflife" => settings with { UsageHalfLife = ParseDuration(value, key) },
                "reservations" => settings with { Reservations = ParseCount(value, key) },
                "maxpreemptions" => settings with { MaxPreemptions = ParseCount(value, key) },
                "borrowbeyondfairshare" => settings with { BorrowBeyondFairShare = ParseFactor(value, key) },
                "borrowanysizebelowshare" => settings with { BorrowAnySizeBelowShare = ParsePositive(value, key) },
                "reclaimvictimorder" => settings with
                {
                    ReclaimVictimOrder = value.ToLowerInvariant() switch
                    {
                        "fair-share" => ReclaimVictimOrder.FairShare,
                        "least-work-lost" => ReclaimVictimOrder.LeastWorkLost,
                        _ => throw new SimulationInputException($"--set {key}={value}: expected fair-share or least-work-lost"),
                    },
                },
                _ when key.StartsWith("weight.", StringComparison.OrdinalIgnoreCase) => WithWeight(settings, key["weight.".Length..], value, key),
                _ => throw new SimulationInputException($"--set '{item}': unknown key '{key}' (halfLife, reservations, maxPreemptions, borrowBeyondFairShare, borrowAnySizeBelowShare, reclaimVictimOrder, weight.TYPE)"),
            };
        }
        return settings;
    }

    /// <summary>The settings in the form <see cref="Apply"/> reads (key=value, comma-separated), weights by type name.</summary>
    public static string Describe(PolicySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var parts = new List<string>
        {
            "halfLife=" + FormatDuration(settings.UsageHalfLife),
            string.Create(CultureInfo.InvariantCulture, $"reservations={settings.Reservations}"),
            string.Create(CultureInfo.InvariantCulture, $"maxPreemptions={settings.MaxPreemptions}"),
            string.Create(CultureInfo.InvariantCulture, $"borrowBeyondFairShare={settings.BorrowBeyondFairShare}"),
            string.Create(CultureInfo.InvariantCulture, $"borrowAnySizeBelowShare={settings.BorrowAnySizeBelowShare}"),
            "reclaimVictimOrder=" + (settings.ReclaimVictimOrder == ReclaimVictimOrder.FairShare ? "fair-share" : "least-work-lost"),
        };
        foreach (var (type, weight) in settings.GpuTypeWeights.OrderBy(w => w.Key, StringComparer.Ordinal))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"weight.{type}={weight}"));
        return string.Join(", ", parts);
    }

    private static string FormatDuration(TimeSpan t) =>
        t.Ticks % TimeSpan.TicksPerDay == 0 ? string.Create(CultureInfo.InvariantCulture, $"{t.Ticks / TimeSpan.TicksPerDay}d")
        : t.Ticks % TimeSpan.TicksPerHour == 0 ? string.Create(CultureInfo.InvariantCulture, $"{t.Ticks / TimeSpan.TicksPerHour}h")
        : t.Ticks % TimeSpan.TicksPerMinute == 0 ? string.Create(CultureInfo.InvariantCulture, $"{t.Ticks / TimeSpan.TicksPerMinute}m")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds}s");

    private static PolicySettings WithWeight(PolicySettings settings, string type, string value, string key)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) || !(w > 0) || double.IsInfinity(w))
            throw new SimulationInputException($"--set {key}={value}: expected a positive number");
        var weights = new Dictionary<string, double>(settings.GpuTypeWeights, StringComparer.Ordinal) { [type] = w };
        return settings with { GpuTypeWeights = weights };
    }

    private static double ParseFactor(string value, string key) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x >= 0 && !double.IsInfinity(x)
            ? x
            : throw new SimulationInputException($"--set {key}={value}: expected a number ≥ 0");

    private static double ParsePositive(string value, string key) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x > 0 && !double.IsInfinity(x)
            ? x
            : throw new SimulationInputException($"--set {key}={value}: expected a number > 0");

    private static int ParseCount(string value, string key) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new SimulationInputException($"--set {key}={value}: expected a whole number ≥ 0");

    /// <summary>A duration as a number with a unit (s, m, h, d, w) or plain seconds.</summary>
    public static TimeSpan ParseDuration(string value, string what)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        var unit = text.Length > 0 && char.IsLetter(text[^1]) ? char.ToLowerInvariant(text[^1]) : 's';
        var number = char.IsLetter(text.Length > 0 ? text[^1] : '0') ? text[..^1] : text;
        var seconds = unit switch { 's' => 1L, 'm' => 60L, 'h' => 3600L, 'd' => 86400L, 'w' => 604800L, _ => 0L };
        if (seconds == 0 || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || !(n > 0))
            throw new SimulationInputException($"{what} '{value}': expected a positive duration like 3d, 12h, 90m or 45s");
        return TimeSpan.FromSeconds(n * seconds);
    }
}
