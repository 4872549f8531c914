using Microsoft.Extensions.Logging.Abstractions;

namespace Mekong.Agent.Tests.Harness;

/// <summary>A <see cref="NodeAgent"/> running against a <see cref="FakeScheduler"/>, with fast reconnects.</summary>
internal sealed class AgentHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly RunnerHarness _files;
    private Task? _running;

    public AgentHarness(FakeScheduler scheduler, Action<AgentOptions>? configure = null)
    {
        _files = new RunnerHarness(configure);
        _files.Runner.Dispose();
        var options = _files.Options;
        options.Server = scheduler.Address;
        options.Token = "agent-secret";
        options.TopologyBlock = "rack-7";
        options.CpuCores = 16;
        options.MemoryBytes = 64UL << 30;
        options.ReconnectMinDelay = TimeSpan.FromMilliseconds(50);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(200);
        options.LogPollInterval = TimeSpan.FromMilliseconds(50);
        configure?.Invoke(options);
        Agent = new NodeAgent(options, NullLoggerFactory.Instance);
    }

    public NodeAgent Agent { get; }

    public string Node => _files.Node;

    public AgentHarness Run()
    {
        _running = Agent.RunAsync(_stop.Token);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running;
        }

        foreach (var job in Agent.Jobs.Jobs().Where(j => !j.IsFinished))
        {
            job.RequestStop(Execution.StopKind.Stop, TimeSpan.Zero);
        }

        for (var i = 0; i < 100 && Agent.Jobs.Jobs().Any(j => !j.IsFinished); i++)
        {
            await Task.Delay(20);
        }

        Agent.Dispose();
        _files.Dispose();
        _stop.Dispose();
    }
}
