using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;
using Mekong.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mekong.Agent.Tests;

/// <summary>--simulate-execution: jobs without processes, and many agents in one process.</summary>
public sealed class SimulatedExecutionTests : IDisposable
{
    private readonly RunnerHarness _node = new(o => o.SimulateExecution = true);

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task A_simulated_job_runs_for_its_duration_and_exits()
    {
        _node.Start(Jobs.Sim("sim", seconds: 0.2).Gpus(0));
        Assert.Single(_node.Runner.Running());

        var final = await _node.States.Final("sim");

        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal(0, final.ExitCode);
        Assert.False(Directory.Exists(_node.Runner.Layout.JobDirectory("sim")));
        Assert.Equal(0, _node.Runner.CgroupVersion);
    }

    [Fact]
    public async Task A_simulated_job_without_a_duration_runs_until_stopped_or_its_walltime()
    {
        _node.Start(Jobs.Sim("forever").Gpus(1));
        _node.Start(Jobs.Sim("capped").Gpus(2).Walltime(0.2));
        _node.Runner.Stop(Jobs.Stop("forever", 5));

        var stopped = await _node.States.Final("forever");
        var timedOut = await _node.States.Final("capped");

        Assert.Equal(AgentJobState.Stopped, stopped.State);
        Assert.Equal(15, stopped.Signal);
        Assert.Equal(AgentJobState.TimedOut, timedOut.State);
    }

    [Fact]
    public async Task Many_simulated_agents_share_one_channel()
    {
        await using var scheduler = await FakeScheduler.StartAsync();
        using var channel = new RpcChannel(scheduler.Address);
        using var stop = new CancellationTokenSource();
        var agents = Enumerable.Range(0, 20).Select(i => new NodeAgent(new AgentOptions
        {
            NodeName = $"sim-{i:D3}",
            StateDirectory = Path.Combine(_node.StateDirectory, $"sim-{i}"),
            SimulateGpus = 8,
            GpuType = "h100",
            SimulateExecution = true,
            Token = "t",
        }, NullLoggerFactory.Instance, channel: channel)).ToList();
        var running = agents.Select(a => a.RunAsync(stop.Token)).ToList();

        var names = new List<string>();
        for (var i = 0; i < agents.Count; i++)
        {
            var session = await scheduler.NextSessionAsync();
            var (hello, inventory) = await session.HandshakeAsync();
            Assert.Equal(8, inventory.Gpus.Count);
            names.Add(hello.NodeName);
            await session.SendAsync(new SchedulerMessage { StartJob = Jobs.Sim("job-" + hello.NodeName, seconds: 0.05).Gpus(0, 1) });
            var exited = await session.StateAsync("job-" + hello.NodeName, AgentJobState.Exited);
            Assert.Equal(0, exited.JobState.ExitCode);
        }

        Assert.Equal(agents.Select(a => a.Options.NodeName).Order(), names.Order());
        await stop.CancelAsync();
        await Task.WhenAll(running);
        agents.ForEach(a => a.Dispose());
    }
}
