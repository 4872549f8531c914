using System.Text;
using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>The agent on the AgentService.Connect stream, against a small in-test scheduler on real Kestrel.</summary>
public sealed class ConnectionTests : IAsyncLifetime
{
    private FakeScheduler _scheduler = null!;

    public async Task InitializeAsync() => _scheduler = await FakeScheduler.StartAsync();

    public async Task DisposeAsync() => await _scheduler.DisposeAsync();

    [Fact]
    public async Task Hello_then_inventory_then_heartbeats_after_welcome()
    {
        await using var node = new AgentHarness(_scheduler).Run();
        var session = await _scheduler.NextSessionAsync();

        var hello = await session.NextAsync();
        var inventory = await session.NextAsync();
        await session.WelcomeAsync(heartbeatSeconds: 0.1);
        var heartbeat1 = await session.NextAsync(m => m.Heartbeat is not null);
        var heartbeat2 = await session.NextAsync(m => m.Heartbeat is not null);

        Assert.Equal("Bearer agent-secret", session.Authorization);
        Assert.Equal(1UL, hello.Sequence);
        Assert.Equal(node.Node, hello.Hello.NodeName);
        Assert.False(string.IsNullOrEmpty(hello.Hello.AgentVersion));
        Assert.NotNull(hello.Hello.AgentStartTime);
        Assert.Equal(2UL, inventory.Sequence);
        var inv = inventory.Inventory;
        Assert.Equal(4, inv.Gpus.Count);
        Assert.All(inv.Gpus, g => Assert.Equal("h100", g.GpuType));
        Assert.Equal([0u, 1u, 2u, 3u], inv.Gpus.Select(g => g.Index));
        Assert.Equal(16u, inv.CpuCores);
        Assert.Equal(64UL << 30, inv.MemoryBytes);
        Assert.Equal("rack-7", inv.TopologyBlock);
        Assert.Equal((uint)RunnerHarness.ExpectedCgroupVersion, inv.CgroupVersion);
        Assert.Empty(inv.RunningJobs);
        Assert.True(heartbeat2.Sequence > heartbeat1.Sequence);
        Assert.Equal(1, node.Agent.Sessions);
    }

    [Fact]
    public async Task A_start_command_is_acknowledged_runs_and_reports_its_output_and_end()
    {
        await using var node = new AgentHarness(_scheduler).Run();
        var session = await _scheduler.NextSessionAsync();
        await session.HandshakeAsync();

        var start = Jobs.Bash("j1", "echo gpus=$CUDA_VISIBLE_DEVICES").Gpus(0, 2);
        var sequence = await session.SendAsync(new SchedulerMessage { StartJob = start });
        var seen = new List<AgentMessage>();
        var ack = await session.NextAsync(m => m.Ack is not null, seen);
        var exited = await session.StateAsync("j1", AgentJobState.Exited, seen);

        Assert.Equal(sequence, ack.Ack.Sequence);
        Assert.True(ack.Ack.Accepted, ack.Ack.Message);
        Assert.Equal(0, exited.JobState.ExitCode);
        var states = seen.Where(m => m.JobState is not null).Select(m => m.JobState.State).ToList();
        Assert.Equal([AgentJobState.Starting, AgentJobState.Running], states);
        // The output arrived before the end.
        var log = Assert.Single(seen, m => m.Log is not null).Log;
        Assert.Equal("gpus=0,2\n", log.Data.ToString(Encoding.UTF8));
        Assert.Equal(LogStream.Stdout, log.Stream);
        Assert.Equal(0UL, log.Offset);
        // Sequence numbers only grow.
        var sequences = seen.Append(exited).Select(m => m.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
    }

    [Fact]
    public async Task A_refused_start_and_a_stop_are_acknowledged_accordingly()
    {
        await using var node = new AgentHarness(_scheduler).Run();
        var session = await _scheduler.NextSessionAsync();
        await session.HandshakeAsync();

        await session.SendAsync(new SchedulerMessage { StartJob = Jobs.Bash("run", "sleep 300").Gpus(1) });
        await session.StateAsync("run", AgentJobState.Running);
        var refusedSeq = await session.SendAsync(new SchedulerMessage { StartJob = Jobs.Bash("clash", "true").Gpus(1) });
        var refused = await session.NextAsync(m => m.Ack is { } a && a.Sequence == refusedSeq);
        var stopSeq = await session.SendAsync(new SchedulerMessage { StopJob = Jobs.Stop("run", 1, reason: StopReason.Cancelled) });
        var stopAck = await session.NextAsync(m => m.Ack is { } a && a.Sequence == stopSeq);
        var stopped = await session.StateAsync("run", AgentJobState.Stopped);

        Assert.False(refused.Ack.Accepted);
        Assert.Contains("held by job run", refused.Ack.Message, StringComparison.Ordinal);
        Assert.True(stopAck.Ack.Accepted);
        Assert.Equal(15, stopped.JobState.Signal);
    }

    [Fact]
    public async Task After_a_broken_stream_the_agent_reconnects_jobs_keep_running_and_missed_changes_follow_the_new_inventory()
    {
        await using var node = new AgentHarness(_scheduler).Run();
        var first = await _scheduler.NextSessionAsync();
        await first.HandshakeAsync();
        var flag = Path.Combine(Path.GetTempPath(), "mekong-flag-" + Guid.NewGuid().ToString("N"));
        await first.SendAsync(new SchedulerMessage { StartJob = Jobs.Bash("finisher", $"while [ ! -e {flag} ]; do sleep 0.05; done; exit 5").Gpus(0) });
        await first.SendAsync(new SchedulerMessage { StartJob = Jobs.Bash("keeper", "sleep 300").Gpus(3) });
        await first.StateAsync("finisher", AgentJobState.Running);
        await first.StateAsync("keeper", AgentJobState.Running);

        // The scheduler goes away; while it is down, one job ends.
        _scheduler.Accepting = false;
        first.Ended.SetResult();
        File.WriteAllText(flag, "");
        await Poll.Until(() => node.Agent.Jobs.Find("finisher", 1)?.IsFinished == true, "the job to end");
        await Task.Delay(300); // a few refused reconnects
        _scheduler.Accepting = true;

        var second = await _scheduler.NextSessionAsync();
        var hello = await second.NextAsync();
        var inventory = await second.NextAsync();
        await second.WelcomeAsync();
        var ended = await second.NextAsync(m => m.JobState is not null);
        File.Delete(flag);

        Assert.Equal(AgentMessage.BodyOneofCase.Hello, hello.BodyCase);
        Assert.Equal(1UL, hello.Sequence);
        var running = Assert.Single(inventory.Inventory.RunningJobs);
        Assert.Equal("keeper", running.JobId);
        Assert.Equal([3u], running.GpuIndices);
        Assert.Equal("finisher", ended.JobState.JobId);
        Assert.Equal(AgentJobState.Exited, ended.JobState.State);
        Assert.Equal(5, ended.JobState.ExitCode);
        Assert.Equal(2, node.Agent.Sessions);
    }

    [Fact]
    public async Task Usage_reports_arrive_at_the_usage_interval()
    {
        await using var node = new AgentHarness(_scheduler).Run();
        var session = await _scheduler.NextSessionAsync();
        await session.HandshakeAsync(heartbeatSeconds: 1, usageSeconds: 0.2);
        await session.SendAsync(new SchedulerMessage { StartJob = Jobs.Bash("spin", "while true; do :; done").Gpus(0) });

        var usage = await session.NextAsync(m => m.Usage is { } u && u.Samples.Any(s => s.CpuSeconds > 0));

        var sample = Assert.Single(usage.Usage.Samples);
        Assert.Equal("spin", sample.JobId);
    }
}
