namespace Mekong.Agent.Discovery;

/// <summary>Maps a driver's model name to the centre's GPU type word ("NVIDIA H100 80GB HBM3" → "h100").</summary>
public static class GpuTypes
{
    // Longest first, so "GH200" is not read as "H200" nor "L40S" as "L40".
    private static readonly string[] Known =
    [
        "GB200", "GH200", "B200", "B100", "H200", "H100", "H800", "A100", "A800", "A40", "A30", "A10G", "A10",
        "L40S", "L40", "L4", "V100", "T4", "P100", "RTX6000", "A6000",
    ];

    public static string FromModel(string model)
    {
        var words = model.ToUpperInvariant().Replace("-", " ", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var known in Known)
        {
            if (words.Any(w => w == known || (w.StartsWith(known, StringComparison.Ordinal) && !char.IsAsciiLetter(w[known.Length]) && !char.IsAsciiDigit(w[known.Length]))))
            {
                return known.ToLowerInvariant();
            }
        }

        // Unknown model: its last word, lower case ("NVIDIA Foo X9" → "x9"), which an admin can map.
        return words.Length == 0 ? "unknown" : words[^1].ToLowerInvariant();
    }
}
