using System.Text;

namespace Mekong.Cli.Output;

/// <summary>
/// The API's enums in DESIGN.md's kebab-case words, both ways: <c>JobState.TimedOut</c> is
/// <c>timed-out</c>, <c>Role.ProjectAdmin</c> is <c>project-admin</c>,
/// <c>PendingReason.NodeTypeUnavailable</c> is <c>node-type-unavailable</c>. The zero value
/// (<c>Unspecified</c>) has no word.
/// </summary>
internal static class EnumWords
{
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        var name = value.ToString();
        if (name == "Unspecified") return "";
        if (!Enum.IsDefined(value)) return name; // A value newer than this CLI: show its number.
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('-');
            sb.Append(char.ToLowerInvariant(name[i]));
        }

        return sb.ToString();
    }

    /// <summary>Every word of the enum, in declaration order (for help text and error messages).</summary>
    public static string[] All<TEnum>()
        where TEnum : struct, Enum =>
        [.. Enum.GetValues<TEnum>().Select(Of).Where(w => w.Length > 0)];

    public static bool TryParse<TEnum>(string text, out TEnum value)
        where TEnum : struct, Enum
    {
        var word = text.Trim().Replace('_', '-').ToLowerInvariant();
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            var w = Of(candidate);
            if (w.Length > 0 && (w == word || w.Replace("-", "", StringComparison.Ordinal) == word))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Parses or throws <see cref="UsageException"/> listing the words.</summary>
    public static TEnum Parse<TEnum>(string text, string option)
        where TEnum : struct, Enum =>
        TryParse<TEnum>(text, out var value)
            ? value
            : throw new UsageException($"{option} '{text}': expected one of {string.Join(", ", All<TEnum>())}");
}
