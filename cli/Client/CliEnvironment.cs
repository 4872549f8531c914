namespace Mekong.Cli.Client;

/// <summary>
/// What the CLI reads from its surroundings: environment variables, the current directory, the home
/// directory and the clock. The process's own by default; tests give their own so that they can run
/// in parallel without touching the process's state.
/// </summary>
internal sealed class CliEnvironment
{
    public Func<string, string?> GetVariable { get; init; } = Environment.GetEnvironmentVariable;

    public string CurrentDirectory { get; init; } = Directory.GetCurrentDirectory();

    public string? HomeDirectory { get; init; } = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? home : null;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The process's own surroundings, read now.</summary>
    public static CliEnvironment FromProcess() => new();
}
