namespace Mekong.Cli.Tests;

/// <summary>Command lines the CLI refuses before calling anyone: exit code 2 and one line on stderr.</summary>
public sealed class ParsingTests : IDisposable
{
    // A port nothing listens on: a test that got past parsing would fail with exit code 1, not 2.
    private const string Nowhere = "http://127.0.0.1:9";
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("--walltime: '5x': unknown unit", "submit", "--project", "p", "--walltime", "5x", "--", "true")]
    [InlineData("--walltime: '30' has no unit", "submit", "--project", "p", "--walltime", "30", "--", "true")]
    [InlineData("--gpus 'abc': expected a whole number", "submit", "--gpus", "abc", "--walltime", "1h", "--", "true")]
    [InlineData("--priority 'urgent': expected one of low, normal, high", "submit", "--priority", "urgent", "--", "true")]
    [InlineData("--env 'NOEQUALS': expected KEY=VALUE", "submit", "--env", "NOEQUALS", "--", "true")]
    [InlineData("give the command to run after --", "submit", "--project", "p", "--walltime", "1h")]
    [InlineData("give --project", "submit", "--walltime", "1h", "--", "true")]
    [InlineData("--state 'sleeping': expected one of pending", "queue", "--state", "running,sleeping")]
    [InlineData("unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("required argument 'job' missing", "show")]
    [InlineData("give a job id or --project, not both", "watch")]
    [InlineData("required argument 'job' missing", "logs", "-f")]
    [InlineData("--attempt 'last': expected a whole number", "logs", "42", "--attempt", "last")]
    [InlineData("--rank '-1': expected a whole number", "logs", "42", "--rank", "-1")]
    [InlineData("--agents 'two': expected a whole number", "dev", "--agents", "two")]
    [InlineData("--guarantee 'h100': expected TYPE=N", "admin", "accounts", "set", "uni-a", "--guarantee", "h100")]
    [InlineData("--limit 'h100=lots': expected TYPE=COUNT", "admin", "accounts", "set", "uni-a", "--limit", "h100=lots")]
    [InlineData("--budget-gpu-hours '-5'", "admin", "accounts", "set", "uni-a", "--budget-gpu-hours", "-5")]
    [InlineData("--on-exhausted 'panic': expected one of hold, scavenge", "admin", "accounts", "set", "uni-a", "--on-exhausted", "panic")]
    [InlineData("--role 'owner': expected one of member, project-admin, org-admin, admin", "admin", "members", "add", "uni-a", "alice", "--role", "owner")]
    [InlineData("--server 'ftp://x'", "queue", "--server", "ftp://x")]
    public void UsageErrorIsOneLineAndExitTwo(string message, params string[] args)
    {
        var result = _cli.Run([.. args, .. args.Contains("--server") ? Array.Empty<string>() : ["--server", Nowhere]]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Output);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mekong: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void CommandAfterDoubleDashKeepsItsOwnFlags()
    {
        // Parses (the server is unreachable, so exit 1, not 2): --verbose after -- belongs to the job.
        var result = _cli.Run("submit", "--server", Nowhere, "--project", "p", "--walltime", "1h", "--", "python", "train.py", "--verbose", "-x");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("mekong: cannot reach http://127.0.0.1:9: connection refused", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpIsNotAnError()
    {
        var result = _cli.Run("submit", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--walltime", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void GlobalOptionsGoBeforeOrAfterTheVerb()
    {
        Assert.Equal(1, _cli.Run("--server", Nowhere, "queue").ExitCode);
        Assert.Equal(1, _cli.Run("queue", "--server", Nowhere).ExitCode);
    }
}
