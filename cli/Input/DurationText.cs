using System.Globalization;
using System.Text;

namespace Mekong.Cli.Input;

/// <summary>
/// Durations as people type them on a command line: unit suffixes (<c>90s</c>, <c>30m</c>, <c>4h</c>,
/// <c>1d</c>, <c>1w</c>, combined as <c>1h30m</c> or <c>2d12h</c>) or clock forms (<c>1:30:00</c>,
/// Slurm's <c>2-12:00:00</c>). A bare number is refused: Slurm reads it as minutes, others as seconds,
/// and a walltime off by a factor of 60 is worse than an error.
/// </summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value, out string error)
    {
        value = default;
        var s = text.Trim();
        if (s.Length == 0)
        {
            error = "empty duration";
            return false;
        }

        if (s.Contains(':', StringComparison.Ordinal))
        {
            return TryParseClock(s, out value, out error);
        }

        if (s.All(char.IsAsciiDigit))
        {
            error = $"'{text}' has no unit: write 30m, 4h, 1d or 1:30:00";
            return false;
        }

        long seconds = 0;
        var i = 0;
        var seen = new HashSet<char>();
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == start || i == s.Length)
            {
                error = $"'{text}' is not a duration: write 30m, 4h, 1d, 1h30m or 1:30:00";
                return false;
            }

            if (!long.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 100_000_000)
            {
                error = $"'{text}' is too long";
                return false;
            }

            var unit = char.ToLowerInvariant(s[i++]);
            long scale = unit switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 604_800,
                _ => 0,
            };
            if (scale == 0 || !seen.Add(unit))
            {
                error = scale == 0
                    ? $"'{text}': unknown unit '{s[i - 1]}' (use s, m, h, d or w)"
                    : $"'{text}' repeats the unit '{unit}'";
                return false;
            }

            seconds += n * scale;
            if (seconds > (long)TimeSpan.FromDays(100 * 365).TotalSeconds)
            {
                error = $"'{text}' is too long";
                return false;
            }
        }

        value = TimeSpan.FromSeconds(seconds);
        error = "";
        return true;
    }

    /// <summary>Parses or throws <see cref="UsageException"/> naming the option.</summary>
    public static TimeSpan Parse(string text, string option) =>
        TryParse(text, out var value, out var error) ? value : throw new UsageException($"{option}: {error}");

    // H:MM:SS, or D-H:MM:SS as Slurm writes it.
    private static bool TryParseClock(string s, out TimeSpan value, out string error)
    {
        value = default;
        error = $"'{s}' is not a duration: clock form is H:MM:SS or D-H:MM:SS";
        long days = 0;
        var rest = s;
        var dash = s.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            if (!long.TryParse(s.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out days) || days > 36_500)
            {
                return false;
            }

            rest = s[(dash + 1)..];
        }

        var parts = rest.Split(':');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h) || h > 876_000
            || parts[1].Length != 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) || m > 59
            || parts[2].Length != 2 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sec) || sec > 59)
        {
            return false;
        }

        value = TimeSpan.FromSeconds((((days * 24) + h) * 60 + m) * 60 + sec);
        error = "";
        return true;
    }

    /// <summary>Short form for tables: <c>4h</c>, <c>1h30m</c>, <c>2d</c>, <c>45s</c>; zero is <c>0s</c>.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = span.Negate();
        var total = (long)span.TotalSeconds;
        if (total == 0) return "0s";
        var sb = new StringBuilder();
        Append(sb, total / 86_400, 'd');
        Append(sb, total / 3600 % 24, 'h');
        Append(sb, total / 60 % 60, 'm');
        Append(sb, total % 60, 's');
        return sb.ToString();
    }

    /// <summary>Coarse form for people: the two largest units (<c>2d3h</c>, <c>1h30m</c>, <c>45s</c>).</summary>
    public static string FormatCoarse(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = span.Negate();
        var total = (long)span.TotalSeconds;
        if (total < 60) return total + "s";
        if (total < 86_400) return Format(TimeSpan.FromSeconds(total / 60 * 60));
        return Format(TimeSpan.FromSeconds(total / 3600 * 3600));
    }

    private static void Append(StringBuilder sb, long n, char unit)
    {
        if (n != 0) sb.Append(n.ToString(CultureInfo.InvariantCulture)).Append(unit);
    }
}
