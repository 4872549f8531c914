using Mekong.Agent.Execution;
using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>An agent restart: live jobs are re-adopted, gone ones reported lost, unsent ends sent again.</summary>
public sealed class AdoptionTests : IDisposable
{
    private readonly RunnerHarness _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task A_restarted_agent_readopts_a_running_job_and_can_stop_it()
    {
        _node.Start(Jobs.Bash("survivor", "echo ready; sleep 300").Gpus(2));
        var pid = ((ProcessJob)_node.Runner.Find("survivor", 1)!).Pid;
        await Poll.Until(() => _node.Stdout("survivor").Contains("ready", StringComparison.Ordinal), "ready");

        _node.Restart();

        var running = Assert.Single(_node.Runner.Running());
        Assert.Equal("survivor", running.JobId);
        Assert.Equal([2u], running.GpuIndices);
        Assert.True(Poll.ProcessExists(pid));
        // Its GPU is still taken.
        Assert.False(_node.Runner.Start(Jobs.Bash("other", "true").Gpus(2)).Accepted);

        Assert.True(_node.Runner.Stop(Jobs.Stop("survivor", 1)).Accepted);
        var final = await _node.States.Final("survivor");

        Assert.Equal(AgentJobState.Stopped, final.State);
        Assert.Equal(15, final.Signal);
        await Poll.Until(() => !Poll.ProcessExists(pid), "the process to die");
    }

    [Fact]
    public async Task A_job_that_ends_after_the_restart_is_reported_with_its_exit_code()
    {
        var flag = Path.Combine(_node.StateDirectory, "go");
        _node.Start(Jobs.Bash("later", $"while [ ! -e {flag} ]; do sleep 0.05; done; exit 4"));
        _node.Restart();
        Assert.Single(_node.Runner.Running());

        File.WriteAllText(flag, "");
        var final = await _node.States.Final("later");

        // The test process is still the job's parent, so the new runner can reap it and knows its status.
        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal(4, final.ExitCode);
    }

    [Fact]
    public async Task A_job_whose_process_is_gone_is_reported_lost()
    {
        _node.Start(Jobs.Bash("doomed", "sleep 300"));
        var job = (ProcessJob)_node.Runner.Find("doomed", 1)!;
        _node.Runner.Dispose();
        // The process dies while no agent watches it, and is reaped by someone else.
        Native.Libc.kill(-job.Pid, Native.Libc.SIGKILL);
        // Reaped here, for certain: a zombie left behind would be reaped (status 137) by the next runner in this process.
        await Poll.Until(() => Native.Libc.TryReap(job.Pid).Status is not null, "the kill");

        _node.Restart();

        var final = await _node.States.Final("doomed");
        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal(-1, final.ExitCode);
        Assert.StartsWith("lost", final.Message, StringComparison.Ordinal);
        Assert.Empty(_node.Runner.Running());
    }

    [Fact]
    public async Task An_end_that_was_never_sent_is_raised_again_after_a_restart_and_forgotten_once_sent()
    {
        _node.Start(Jobs.Bash("done", "exit 2"));
        await _node.States.Final("done");
        var record = _node.Runner.Layout.RecordPath("done", 1);
        Assert.True(File.Exists(record));

        _node.Restart();

        var again = await _node.States.Final("done", timeoutSeconds: 1);
        Assert.Equal(2, again.ExitCode);
        Assert.Empty(_node.Runner.Running());
        _node.Runner.Forget("done", 1);
        Assert.False(File.Exists(record));
        Assert.True(File.Exists(_node.Runner.Layout.StdoutPath("done", 1)));
    }

    [Fact]
    public async Task A_walltime_keeps_counting_from_the_original_start()
    {
        _node.Start(Jobs.Bash("clock", "sleep 300").Walltime(1, grace: 0.2));
        await Task.Delay(500);
        _node.Restart();

        var final = await _node.States.Final("clock", timeoutSeconds: 3);

        Assert.Equal(AgentJobState.TimedOut, final.State);
    }

    [Fact]
    public async Task Processes_in_a_control_group_no_state_file_speaks_for_are_killed_on_restart()
    {
        if (_node.Cgroups.Version == 0)
        {
            return;
        }

        // As if the agent died between spawning a job and writing its state file.
        var group = _node.Cgroups.Create("ghost.1", default);
        using var ghost = System.Diagnostics.Process.Start("sleep", "300");
        foreach (var procs in group.ProcsFiles)
        {
            File.WriteAllText(procs, ghost.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        _node.Restart();

        Assert.True(ghost.WaitForExit(5000));
        Assert.DoesNotContain("ghost.1", _node.Cgroups.Groups());
        await Task.CompletedTask;
    }
}
