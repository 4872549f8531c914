using Mekong.Agent;
using Mekong.Agent.Execution;

namespace Mekong.Integration.Tests.Harness;

/// <summary>
/// Node agents in the test process (real processes, real cgroups), each under its own state directory, in one
/// control group parent of their own so that tests never touch each other's groups. Disposing stops every job
/// still running, then the agents, then removes the groups.
/// </summary>
internal sealed class Agents : IAsyncDisposable
{
    private readonly List<(NodeAgent Agent, CancellationTokenSource Stop, Task Run)> _agents = [];

    public Agents(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>Control group parent of these agents (unique per test).</summary>
    public string CgroupParent { get; } = "mekong-it-" + Guid.NewGuid().ToString("N")[..8];

    public IEnumerable<NodeAgent> All => _agents.Select(a => a.Agent);

    public NodeAgent Add(Uri server, string token, string node, int gpus = 4, string block = "b0")
    {
        var agent = new NodeAgent(Options(server, token, node, gpus, block));
        var stop = new CancellationTokenSource();
        _agents.Add((agent, stop, Task.Run(() => agent.RunAsync(stop.Token))));
        return agent;
    }

    public AgentOptions Options(Uri server, string token, string node, int gpus = 4, string block = "b0") => new()
    {
        Server = server,
        Token = token,
        NodeName = node,
        StateDirectory = Path.Combine(Directory, "agents", node),
        SimulateGpus = gpus,
        GpuType = "h100",
        TopologyBlock = block,
        CgroupParent = CgroupParent,
        ReconnectMinDelay = TimeSpan.FromMilliseconds(200),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        LogPollInterval = TimeSpan.FromMilliseconds(100),
    };

    public async ValueTask DisposeAsync()
    {
        var running = _agents.SelectMany(a => a.Agent.Jobs.Jobs()).Where(j => !j.IsFinished).ToList();
        foreach (var job in running) job.RequestStop(StopKind.Stop, TimeSpan.Zero);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (running.Any(j => !j.IsFinished) && DateTime.UtcNow < deadline) await Task.Delay(50);
        foreach (var (agent, stop, run) in _agents)
        {
            await stop.CancelAsync();
            try
            {
                await run.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException)
            {
            }

            agent.Dispose();
            stop.Dispose();
        }

        Cgroups.RemoveTree(CgroupParent);
    }
}
