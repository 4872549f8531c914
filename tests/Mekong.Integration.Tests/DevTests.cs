using System.Text.RegularExpressions;
using Mekong.Integration.Tests.Harness;

namespace Mekong.Integration.Tests;

/// <summary>
/// README's first session, as a new user runs it: <c>mekong dev</c> (scheduler and two local agents) in a fresh
/// directory, then <c>mekong submit --gpus 2 -- bash -c 'echo $CUDA_VISIBLE_DEVICES'</c> and <c>mekong logs -f</c>
/// from that directory, all real processes. SIGTERM stops dev, its agents and their jobs.
/// </summary>
public sealed partial class DevTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mekong-it-dev-").FullName;

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
    public async Task Dev_runs_a_submitted_job_on_local_agents_and_logs_follow_shows_its_GPUs()
    {
        var home = new Dictionary<string, string> { ["HOME"] = _directory };
        using var dev = Programs.Start(Programs.MekongDll(), _directory, ["dev", "--listen", "127.0.0.1:0"], home);
        try
        {
            await Poll.UntilAsync(() => dev.Output.Contains("Ctrl-C", StringComparison.Ordinal) || dev.Process.HasExited, "dev's banner", 60);
            Assert.False(dev.Process.HasExited, dev.Error);
            Assert.Contains("local-1, local-2", dev.Output, StringComparison.Ordinal);

            var submit = await Programs.RunAsync(Programs.MekongDll(), _directory, ["submit", "--gpus", "2", "--", "bash", "-c", "echo $CUDA_VISIBLE_DEVICES"], home);
            Assert.True(submit.ExitCode == 0, submit.Error);
            var id = submit.Output.Trim();

            var logs = await Programs.RunAsync(Programs.MekongDll(), _directory, ["logs", "-f", id], home);
            Assert.True(logs.ExitCode == 0, logs.Error);
            Assert.Matches(TwoGpus(), logs.Output);

            var show = await Programs.RunAsync(Programs.MekongDll(), _directory, ["queue", "--all"], home);
            Assert.Contains(show.Output.Split('\n'), l => l.StartsWith(id + " ", StringComparison.Ordinal) && l.Contains("succeeded", StringComparison.Ordinal));

            // A job still running when dev stops is stopped with it.
            var pidFile = Path.Combine(_directory, "job.pid");
            var sleeper = await Programs.RunAsync(Programs.MekongDll(), _directory, ["submit", "--", "bash", "-c", $"echo $$ > {pidFile}; exec sleep 600"], home);
            Assert.True(sleeper.ExitCode == 0, sleeper.Error);
            await Poll.UntilAsync(() => File.Exists(pidFile) && new FileInfo(pidFile).Length > 0, "the sleeper's pid", 30);
            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

            Programs.Signal(dev.Process, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await dev.Process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, dev.Process.ExitCode);
            Assert.False(Poll.ProcessAlive(pid), "the job outlived mekong dev");
        }
        finally
        {
            dev.Kill();
        }
    }

    [GeneratedRegex(@"^\d,\d\n$")]
    private static partial Regex TwoGpus();
}
