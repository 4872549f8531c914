using System.Diagnostics;
using System.Globalization;
using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>The real Mekong.Agent executable: its command line, a SIGKILL of the agent, and re-adoption by a new one.</summary>
public sealed class ProcessRestartTests : IAsyncLifetime
{
    private readonly string _node = "p" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "mekong-agent-tests", "proc-" + Guid.NewGuid().ToString("N")[..8]);
    private FakeScheduler _scheduler = null!;

    public async Task InitializeAsync() => _scheduler = await FakeScheduler.StartAsync();

    public async Task DisposeAsync()
    {
        await _scheduler.DisposeAsync();
        foreach (var controller in new[] { "memory", "cpu", "cpuacct", "pids" })
        {
            try
            {
                Directory.Delete(Path.Combine("/sys/fs/cgroup", controller, RunnerHarness.CgroupParent, _node));
            }
            catch (IOException)
            {
            }
        }

        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_job_survives_a_SIGKILLed_agent_and_the_next_agent_readopts_it()
    {
        var flag = Path.Combine(_state, "flag");
        using var first = StartAgent();
        var session1 = await _scheduler.NextSessionAsync(timeoutSeconds: 20);
        var (hello1, _) = await session1.HandshakeAsync();
        Assert.Equal(_node, hello1.NodeName);
        Assert.Equal("Bearer secret", session1.Authorization);
        await session1.SendAsync(new SchedulerMessage { StartJob = Jobs.Bash("survivor", $"echo $$ > {_state}/job.pid; while [ ! -e {flag} ]; do sleep 0.05; done").Gpus(1) });
        await session1.StateAsync("survivor", AgentJobState.Running);
        await Poll.Until(() => File.Exists(Path.Combine(_state, "job.pid")), "the job's pid file");

        first.Kill();
        await first.WaitForExitAsync();
        var jobPid = int.Parse(File.ReadAllText(Path.Combine(_state, "job.pid")).Trim(), CultureInfo.InvariantCulture);
        Assert.True(Poll.ProcessExists(jobPid));

        using var second = StartAgent();
        try
        {
            var session2 = await _scheduler.NextSessionAsync(timeoutSeconds: 20);
            var (hello2, inventory) = await session2.HandshakeAsync();
            Assert.True(hello2.AgentStartTime.ToDateTimeOffset() > hello1.AgentStartTime.ToDateTimeOffset());
            var running = Assert.Single(inventory.RunningJobs);
            Assert.Equal(("survivor", 1u), (running.JobId, running.Attempt));
            Assert.Equal([1u], running.GpuIndices);

            File.WriteAllText(flag, "");
            var ended = await session2.StateAsync("survivor", AgentJobState.Exited);
            // The new agent is not the job's parent: the end is known, its status is not.
            Assert.StartsWith("lost", ended.JobState.Message, StringComparison.Ordinal);
            Assert.False(Poll.ProcessExists(jobPid));
        }
        finally
        {
            second.Kill();
            await second.WaitForExitAsync();
        }
    }

    private Process StartAgent()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Mekong.Agent.dll"),
            "--server", _scheduler.Address.ToString(), "--token", "secret", "--node", _node, "--state-dir", _state,
            "--simulate-gpus", "2", "--gpu-type", "h100", "--cgroup-parent", RunnerHarness.CgroupParent,
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
