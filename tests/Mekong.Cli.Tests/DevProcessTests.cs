using System.Diagnostics;

namespace Mekong.Cli.Tests;

/// <summary>
/// <c>mekong dev</c> as a real child process (<c>dotnet exec mekong.dll</c>) in a temporary directory:
/// it writes .mekong/config.yaml, and <c>mekong</c> commands run from that directory (also as child
/// processes) need no flags. A second run reuses the saved token. Without local agents (--agents 0): the
/// submitted job stays pending; tests/Mekong.Integration.Tests runs dev with its agents.
/// </summary>
public sealed class DevProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mekong-dev-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task DevWritesAConfigThatCommandsFromItsDirectoryUse()
    {
        var config = Path.Combine(_directory, ".mekong", "config.yaml");
        string token;
        using (var dev = Start("dev", "--listen", "127.0.0.1:0", "--agents", "0"))
        {
            await WaitFor(config, dev);
            token = Client.ConfigFile.Read(config).Token!;
            Assert.Contains(token, await ReadUntil(dev, "Ctrl-C"), StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));

            var submit = await Mekong("submit", "--gpus", "1", "--walltime", "10m", "--", "echo", "hello");
            Assert.True(submit.ExitCode == 0, submit.Error);
            var id = submit.Output.Trim();
            var queue = await Mekong("queue");
            Assert.True(queue.ExitCode == 0, queue.Error);
            Assert.Contains(queue.Lines, l => l.StartsWith(id + " ", StringComparison.Ordinal) && l.Contains("demo/default", StringComparison.Ordinal));
            var accounts = await Mekong("admin", "accounts", "list");
            Assert.Contains("demo/default", accounts.Output, StringComparison.Ordinal);

            await Stop(dev);
        }

        using (var again = Start("dev", "--listen", "127.0.0.1:0", "--agents", "0"))
        {
            await ReadUntil(again, "Ctrl-C");
            Assert.Equal(token, Client.ConfigFile.Read(config).Token);
            var queue = await Mekong("queue");
            Assert.True(queue.ExitCode == 0, queue.Error);
            Assert.Equal(2, queue.Lines.Length); // the job of the first run, restored from SQLite
            await Stop(again);
        }
    }

    internal static string MekongDll()
    {
        var here = Path.Combine(AppContext.BaseDirectory, "mekong.dll");
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "mekong.runtimeconfig.json"))) return here;
        // The cli project's own output, in the same configuration as this test assembly.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "cli", "bin", configuration, "net10.0", "mekong.dll");
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException("mekong.dll (build cli/ first)");
    }

    private ProcessStartInfo StartInfo(string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = _directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(MekongDll());
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in new[] { "MEKONG_SERVER", "MEKONG_TOKEN", "MEKONG_PROJECT", "XDG_CONFIG_HOME" }) info.Environment.Remove(name);
        info.Environment["HOME"] = _directory;
        return info;
    }

    private Process Start(params string[] args) => Process.Start(StartInfo(args))!;

    private async Task<CliResult> Mekong(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }

    private static async Task WaitFor(string path, Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!File.Exists(path))
        {
            if (process.HasExited) Assert.Fail($"mekong dev exited {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
            if (DateTime.UtcNow > deadline) Assert.Fail("mekong dev wrote no config.yaml within 60 s");
            await Task.Delay(100);
        }
    }

    /// <summary>stdout up to and including the first line containing <paramref name="marker"/>.</summary>
    private static async Task<string> ReadUntil(Process process, string marker)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new System.Text.StringBuilder();
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            if (line.Contains(marker, StringComparison.Ordinal)) return seen.ToString();
        }

        Assert.Fail($"mekong dev ended before '{marker}': {seen}{await process.StandardError.ReadToEndAsync()}");
        return "";
    }

    /// <summary>SIGTERM, as a service manager stops it; it must exit 0 in good time.</summary>
    private static async Task Stop(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("mekong dev did not stop within 30 s of SIGTERM");
        }

        Assert.Equal(0, process.ExitCode);
    }
}
