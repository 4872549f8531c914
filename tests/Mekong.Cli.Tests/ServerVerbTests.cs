namespace Mekong.Cli.Tests;

public sealed class ServerVerbTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task ServerWritesABootstrapTokenOnceAndStopsOnCancel()
    {
        var tokenFile = Path.Combine(_cli.Root, "secrets", "admin-token");
        var store = Path.Combine(_cli.Root, "db", "mekong.db");
        for (var round = 0; round < 2; round++)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var run = _cli.RunAsync(["server", "--store", store, "--listen", "127.0.0.1:0", "--bootstrap-token-file", tokenFile], stop.Token);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!File.Exists(tokenFile) && !run.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.False(run.IsCompleted, run.IsCompleted ? (await run).Error : "");
            var secret = (await File.ReadAllTextAsync(tokenFile)).Trim();
            Assert.StartsWith("mkg_", secret, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            if (round == 1)
            {
                await Task.Delay(500);
                Assert.Equal(secret, (await File.ReadAllTextAsync(tokenFile)).Trim()); // not replaced: the store has an admin token
            }

            await stop.CancelAsync();
            var result = await run;
            Assert.True(result.ExitCode is 0, result.Error);
        }
    }

    [Fact]
    public async Task PolicySettingsGivenWithSetReachTheScheduler()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var started = Path.Combine(_cli.Root, "token"); // written once the server is up
        var run = _cli.RunAsync(["server", "--store", Path.Combine(_cli.Root, "p.db"), "--listen", "127.0.0.1:0", "--bootstrap-token-file", started,
            "--set", "reservations=4", "--set", "halfLife=12h", "--set", "reclaimVictimOrder=fair-share", "--set", "weight.h100=2.5"], stop.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!File.Exists(started) && !run.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(50);
        await stop.CancelAsync();
        var result = await run;
        Assert.True(result.ExitCode is 0, result.Error);
        var line = result.Error.Split('\n').Single(l => l.StartsWith("mekong server: policy ", StringComparison.Ordinal));
        Assert.Equal("mekong server: policy halfLife=12h, reservations=4, maxPreemptions=3, borrowBeyondFairShare=1.5, " +
            "borrowAnySizeBelowShare=0.5, reclaimVictimOrder=fair-share, weight.h100=2.5", line.TrimEnd());
    }

    [Theory]
    [InlineData("reservations=-1", "mekong: --set reservations=-1: expected a whole number ≥ 0")]
    [InlineData("halfLife=soon", "mekong: halfLife 'soon': expected a positive duration like 3d, 12h, 90m or 45s")]
    [InlineData("backfill=off", "mekong: --set 'backfill=off': unknown key 'backfill'")]
    [InlineData("reservations", "mekong: --set 'reservations': expected key=value")]
    public void A_bad_policy_setting_is_a_usage_error_and_starts_nothing(string set, string error)
    {
        var store = Path.Combine(_cli.Root, "bad.db");
        var result = _cli.Run("server", "--store", store, "--listen", "127.0.0.1:0", "--set", set);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(error, result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(store));
    }

    [Fact]
    public void BadListenAddressIsAUsageError()
    {
        var result = _cli.Run("server", "--store", Path.Combine(_cli.Root, "x.db"), "--listen", "not-an-address");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("mekong: listen: 'not-an-address'", result.Error, StringComparison.Ordinal);
    }
}
