using Mekong.Scheduler;

namespace Mekong.Integration.Tests.Harness;

/// <summary>
/// A whole cluster in the test process: the real scheduler on 127.0.0.1:0 over a temporary SQLite file, and
/// <c>nodes</c> real agents (<c>node-1</c> …, 4 simulated h100 GPUs each, one block) running real processes.
/// </summary>
internal sealed class Cluster : IAsyncDisposable
{
    private Cluster(string directory, SchedulerHost host, ClusterApi api, Agents agents, string agentToken)
    {
        Directory = directory;
        Host = host;
        Api = api;
        Agents = agents;
        AgentToken = agentToken;
    }

    public string Directory { get; }

    public SchedulerHost Host { get; }

    public ClusterApi Api { get; }

    public Agents Agents { get; }

    public string AgentToken { get; }

    public static async Task<Cluster> StartAsync(int nodes = 2, int gpus = 4, Action<SchedulerOptions>? configure = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("mekong-it-").FullName;
        var options = new SchedulerOptions
        {
            Store = "Data Source=" + Path.Combine(directory, "mekong.db"),
            Listen = "127.0.0.1:0",
            FullPassInterval = TimeSpan.FromMilliseconds(200),
            HeartbeatInterval = TimeSpan.FromMilliseconds(500),
            UsageInterval = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(options);
        var host = await SchedulerHost.StartAsync(options);
        var admin = await host.IssueTokenAsync("root", ["admin"], "test admin");
        var agentToken = await host.IssueTokenAsync("agents", ["agent"], "test agents");
        var cluster = new Cluster(directory, host, new ClusterApi(host.Address, admin), new Agents(directory), agentToken);
        for (var i = 1; i <= nodes; i++) cluster.AddNode($"node-{i}", gpus);
        if (nodes > 0) await cluster.Api.WaitForNodesAsync(nodes);
        return cluster;
    }

    public void AddNode(string name, int gpus = 4) => Agents.Add(Host.Address, AgentToken, name, gpus);

    public async ValueTask DisposeAsync()
    {
        await Agents.DisposeAsync();
        Api.Dispose();
        await Host.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
