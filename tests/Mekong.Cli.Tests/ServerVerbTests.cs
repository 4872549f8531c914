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
    public void BadListenAddressIsAUsageError()
    {
        var result = _cli.Run("server", "--store", Path.Combine(_cli.Root, "x.db"), "--listen", "not-an-address");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("mekong: listen: 'not-an-address'", result.Error, StringComparison.Ordinal);
    }
}
