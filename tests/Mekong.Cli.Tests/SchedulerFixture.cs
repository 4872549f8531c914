using Mekong.Scheduler;

namespace Mekong.Cli.Tests;

/// <summary>
/// A real scheduler in-process: a temporary SQLite file, any free loopback port, an admin token, and
/// the accounts uni-a (h100 guarantee 8) and uni-a/vision (guarantee 4, limit 8) made through the CLI.
/// </summary>
public sealed class SchedulerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mekong-cli-server-").FullName;

    public SchedulerHost Host { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    public string Server => Host.Address.ToString();

    public async Task InitializeAsync()
    {
        Host = await SchedulerHost.StartAsync(new SchedulerOptions
        {
            Store = "Data Source=" + Path.Combine(_directory, "mekong.db"),
            Listen = "127.0.0.1:0",
        });
        AdminToken = await Host.IssueTokenAsync("root-admin", ["admin"], "cli tests");
        using var cli = Admin();
        Expect(cli.Run("admin", "accounts", "set", "uni-a", "--guarantee", "h100=8", "--kind", "organisation"));
        Expect(cli.Run("admin", "accounts", "set", "uni-a/vision", "--guarantee", "h100=4", "--limit", "h100=8"));
    }

    /// <summary>A CLI pointed at this scheduler through MEKONG_SERVER / MEKONG_TOKEN.</summary>
    internal CliRunner As(string token) => new CliRunner().Set("MEKONG_SERVER", Server).Set("MEKONG_TOKEN", token);

    internal CliRunner Admin() => As(AdminToken);

    internal static CliResult Expect(CliResult result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        return result;
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
