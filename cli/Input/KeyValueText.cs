using System.Globalization;

namespace Mekong.Cli.Input;

/// <summary><c>KEY=VALUE</c> arguments: <c>--env K=V</c>, <c>--guarantee h100=8</c>, <c>--limit h100=16</c>.</summary>
internal static class KeyValueText
{
    /// <summary>Splits at the first '='; the key must be non-empty, the value may be empty.</summary>
    public static KeyValuePair<string, string> Parse(string text, string option)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new UsageException($"{option} '{text}': expected KEY=VALUE");
        }

        return new(text[..eq], text[(eq + 1)..]);
    }

    /// <summary>Every pair in order; a repeated key keeps the last value.</summary>
    public static IReadOnlyDictionary<string, string> ParseAll(IEnumerable<string> texts, string option)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            var (key, value) = Parse(text, option);
            result[key] = value;
        }

        return result;
    }

    /// <summary>
    /// GPU counts per type (<c>h100=8</c>). With <paramref name="allowNone"/>, <c>h100=none</c> gives null
    /// (for limits: "no limit").
    /// </summary>
    public static IReadOnlyList<(string GpuType, uint? Count)> ParseGpuCounts(IEnumerable<string> texts, string option, bool allowNone)
    {
        var result = new List<(string, uint?)>();
        foreach (var text in texts)
        {
            var (type, value) = Parse(text, option);
            if (allowNone && value.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                result.Add((type, null));
            }
            else if (uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                result.Add((type, n));
            }
            else
            {
                throw new UsageException($"{option} '{text}': expected TYPE=COUNT with a whole number{(allowNone ? " or 'none'" : "")}");
            }
        }

        return result;
    }
}
