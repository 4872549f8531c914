using System.CommandLine;
using Mekong.Cli.Input;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary>Option kinds several verbs use; a bad value is a parse error (exit code 2) naming the option.</summary>
internal static class VerbOptions
{
    /// <summary>A duration option (<c>30m</c>, <c>4h</c>, <c>1d</c>, <c>1:30:00</c>).</summary>
    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DurationText.TryParse(text, out var value, out var error)) return value;
            result.AddError($"{name}: {error}");
            return null;
        },
    };

    /// <summary>A whole-number option (GPUs, nodes, shares).</summary>
    public static Option<uint> Count(string name, string description, uint defaultValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)) return value;
            result.AddError($"{name} '{text}': expected a whole number");
            return defaultValue;
        },
    };

    /// <summary>An option taking one of an enum's kebab-case words.</summary>
    public static Option<TEnum?> Word<TEnum>(string name, string description)
        where TEnum : struct, Enum => new(name)
    {
        Description = $"{description} ({string.Join("|", EnumWords.All<TEnum>())})",
        HelpName = typeof(TEnum).Name.ToUpperInvariant(),
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (EnumWords.TryParse<TEnum>(text, out var value)) return value;
            result.AddError($"{name} '{text}': expected one of {string.Join(", ", EnumWords.All<TEnum>())}");
            return null;
        },
    };

    /// <summary>A repeatable option whose values may also be comma-separated, parsed as enum words.</summary>
    public static Option<TEnum[]> Words<TEnum>(string name, string description)
        where TEnum : struct, Enum => new(name)
    {
        Description = $"{description} ({string.Join("|", EnumWords.All<TEnum>())}; repeatable or comma-separated)",
        HelpName = typeof(TEnum).Name.ToUpperInvariant(),
        AllowMultipleArgumentsPerToken = false,
        CustomParser = result =>
        {
            var values = new List<TEnum>();
            foreach (var token in result.Tokens)
            {
                foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (EnumWords.TryParse<TEnum>(part, out var value))
                    {
                        values.Add(value);
                    }
                    else
                    {
                        result.AddError($"{name} '{part}': expected one of {string.Join(", ", EnumWords.All<TEnum>())}");
                    }
                }
            }

            return [.. values];
        },
    };

    /// <summary>A repeatable <c>KEY=VALUE</c> option.</summary>
    public static Option<string[]> Pairs(string name, string description, string helpName = "KEY=VALUE") => new(name)
    {
        Description = description + " (repeatable)",
        HelpName = helpName,
        AllowMultipleArgumentsPerToken = false,
        Validators =
        {
            result =>
            {
                foreach (var token in result.Tokens)
                {
                    if (token.Value.IndexOf('=', StringComparison.Ordinal) <= 0) result.AddError($"{name} '{token.Value}': expected {helpName}");
                }
            },
        },
    };
}
