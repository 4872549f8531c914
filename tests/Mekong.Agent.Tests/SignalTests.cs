using System.Globalization;
using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>Walltime, stop (preempt, cancel), SIGTERM → grace → SIGKILL, and nothing left behind.</summary>
public sealed class SignalTests : IDisposable
{
    private readonly RunnerHarness _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task A_walltime_overrun_is_killed_and_reported_timed_out()
    {
        _node.Start(Jobs.Bash("long", "sleep 30").Walltime(0.5, grace: 0.5));

        var final = await _node.States.Final("long");

        Assert.Equal(AgentJobState.TimedOut, final.State);
        Assert.Equal(15, final.Signal);
        Assert.Empty(_node.Runner.Running());
    }

    [Fact]
    public async Task A_stopped_job_gets_SIGTERM_and_checkpoints_in_its_grace_period()
    {
        var script = """
            trap 'echo saved > checkpoint; echo checkpointed; exit 0' TERM
            echo ready
            while true; do sleep 0.05; done
            """;
        _node.Start(Jobs.Bash("ckpt", script));
        await Poll.Until(() => File.Exists(_node.Runner.Layout.StdoutPath("ckpt", 1)) && _node.Stdout("ckpt").Contains("ready", StringComparison.Ordinal), "the job to be ready");

        Assert.True(_node.Runner.Stop(Jobs.Stop("ckpt", graceSeconds: 5)).Accepted);
        var final = await _node.States.Final("ckpt");

        Assert.Equal(AgentJobState.Stopped, final.State);
        Assert.Equal(0, final.ExitCode);
        Assert.Equal(0, final.Signal);
        Assert.Equal("saved\n", File.ReadAllText(Path.Combine(_node.Runner.Layout.WorkDirectory("ckpt"), "checkpoint")));
        Assert.Contains("checkpointed", _node.Stdout("ckpt"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_that_ignores_SIGTERM_is_SIGKILLed_after_the_grace()
    {
        _node.Start(Jobs.Bash("stubborn", "trap '' TERM; echo ready; while true; do sleep 0.05; done"));
        await Poll.Until(() => _node.Stdout("stubborn").Contains("ready", StringComparison.Ordinal), "the job to be ready");

        var stoppedAt = DateTime.UtcNow;
        _node.Runner.Stop(Jobs.Stop("stubborn", graceSeconds: 0.5, reason: StopReason.Cancelled));
        var final = await _node.States.Final("stubborn");

        Assert.Equal(AgentJobState.Stopped, final.State);
        Assert.Equal(9, final.Signal);
        Assert.Equal(137, final.ExitCode);
        Assert.InRange(DateTime.UtcNow - stoppedAt, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_zero_grace_kills_at_once()
    {
        _node.Start(Jobs.Bash("now", "trap '' TERM; sleep 30"));
        await Poll.Until(() => _node.Runner.Running().Count == 1, "running");
        _node.Runner.Stop(Jobs.Stop("now", graceSeconds: 0));

        var final = await _node.States.Final("now", timeoutSeconds: 3);
        Assert.Equal(9, final.Signal);
    }

    [Fact]
    public async Task Children_die_with_the_job_even_when_they_leave_its_process_group()
    {
        var script = """
            sleep 300 & echo $! > child.pid
            setsid sleep 300 & echo $! > escaped.pid
            echo ready
            wait
            """;
        _node.Start(Jobs.Bash("family", script));
        var work = _node.Runner.Layout.WorkDirectory("family");
        await Poll.Until(() => _node.Stdout("family").Contains("ready", StringComparison.Ordinal), "the job to be ready");
        var child = int.Parse(File.ReadAllText(Path.Combine(work, "child.pid")).Trim(), CultureInfo.InvariantCulture);
        var escaped = int.Parse(File.ReadAllText(Path.Combine(work, "escaped.pid")).Trim(), CultureInfo.InvariantCulture);
        Assert.True(Poll.ProcessExists(child));
        Assert.True(Poll.ProcessExists(escaped));

        _node.Runner.Stop(Jobs.Stop("family", graceSeconds: 1));
        await _node.States.Final("family");

        await Poll.Until(() => !Poll.ProcessExists(child), "the child to die", 3);
        if (_node.Cgroups.Version > 0)
        {
            // Only the control group knows a child that called setsid.
            await Poll.Until(() => !Poll.ProcessExists(escaped), "the escaped child to die", 3);
        }
    }

    [Fact]
    public async Task A_job_that_exits_leaves_no_background_process()
    {
        _node.Start(Jobs.Bash("daemon", "sleep 300 & echo $! > bg.pid; exit 0"));
        var final = await _node.States.Final("daemon");
        Assert.Equal(AgentJobState.Exited, final.State);

        var bg = int.Parse(File.ReadAllText(Path.Combine(_node.Runner.Layout.WorkDirectory("daemon"), "bg.pid")).Trim(), CultureInfo.InvariantCulture);
        await Poll.Until(() => !Poll.ProcessExists(bg), "the background process to die", 3);
    }

    [Fact]
    public void Stopping_an_unknown_job_is_refused()
    {
        Assert.False(_node.Runner.Stop(Jobs.Stop("nobody-knows", 1)).Accepted);
    }
}
