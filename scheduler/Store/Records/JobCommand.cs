namespace Mekong.Store;

/// <summary>What a job runs: the part of a submission the policy core never looks at.</summary>
/// <param name="Argv">Command and arguments (after <c>--</c> on the CLI).</param>
/// <param name="Env">Environment variables set for the job.</param>
/// <param name="WorkingDirectory">Working directory on the node, or null for the agent's default.</param>
/// <param name="Image">Container image, or null to run on the host.</param>
public sealed record JobCommand(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Env, string? WorkingDirectory = null, string? Image = null)
{
    public static JobCommand Empty { get; } = new([], new Dictionary<string, string>());
}
