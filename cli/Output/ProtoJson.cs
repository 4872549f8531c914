using Google.Protobuf;

namespace Mekong.Cli.Output;

/// <summary>
/// <c>--json</c> output: the proto3 JSON mapping (lowerCamelCase names, enum names, RFC 3339 times,
/// durations as "3600s"), exactly what the scheduler's JSON-over-HTTP API returns, so a script can
/// switch between the two. Fields at their default value are omitted, as the mapping says.
/// </summary>
internal static class ProtoJson
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>One object on one line.</summary>
    public static void Write(TextWriter writer, IMessage message)
    {
        writer.Write(Format(message));
        writer.Write('\n');
    }

    /// <summary>One array on one line.</summary>
    public static void WriteArray(TextWriter writer, IEnumerable<IMessage> messages)
    {
        writer.Write('[');
        var first = true;
        foreach (var message in messages)
        {
            if (!first) writer.Write(',');
            writer.Write(Format(message));
            first = false;
        }

        writer.Write("]\n");
    }
}
