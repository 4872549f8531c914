using System.Runtime.Versioning;
using Mekong.Agent;
using Mekong.Agent.Execution;
using Mekong.Transport;
using Microsoft.Extensions.Logging;

namespace Mekong.Cli.Dev;

/// <summary>
/// The node agents of <c>mekong dev</c>: <c>local-1</c> … <c>local-N</c>, in this process, each with simulated
/// GPUs but real job processes (control groups where the machine allows), their state under
/// <c>./.mekong/agents/NODE</c>, all in one topology block so that a gang fits. Unlike a node's agent, which
/// leaves jobs running when it stops, these stop their jobs when <c>mekong dev</c> stops: nothing of a local
/// cluster outlives it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class LocalAgents : IAsyncDisposable
{
    /// <summary>How long a job has between SIGTERM and SIGKILL when <c>mekong dev</c> stops (at most its own grace).</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly RpcChannel _channel;
    private readonly List<NodeAgent> _agents;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _sessions;

    private readonly string _cgroupParent;

    private LocalAgents(RpcChannel channel, List<NodeAgent> agents, string cgroupParent)
    {
        _cgroupParent = cgroupParent;
        _channel = channel;
        _agents = agents;
        _sessions = [.. agents.Select(a => Task.Run(() => a.RunAsync(_stop.Token)))];
    }

    public IReadOnlyList<NodeAgent> Agents => _agents;

    /// <summary>Starts <paramref name="count"/> agents against <paramref name="server"/>.</summary>
    public static LocalAgents Start(Uri server, string token, string stateRoot, int count, int gpusPerAgent, string gpuType, ILoggerFactory loggers)
    {
        // Control groups are PARENT/NODE/JOB.ATTEMPT and an agent kills groups of its node that no state file
        // speaks for: a parent per state directory keeps two `mekong dev` in two directories apart.
        var parent = "mekong-dev-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(stateRoot))))[..8];
        var channel = new RpcChannel(server);
        var agents = new List<NodeAgent>(count);
        try
        {
            for (var i = 1; i <= count; i++)
            {
                var name = $"local-{i}";
                agents.Add(new NodeAgent(new AgentOptions
                {
                    Server = server,
                    Token = token,
                    NodeName = name,
                    StateDirectory = Path.Combine(stateRoot, name),
                    SimulateGpus = gpusPerAgent,
                    GpuType = gpuType,
                    TopologyBlock = "local",
                    CgroupParent = parent,
                    ReconnectMaxDelay = TimeSpan.FromSeconds(2),
                    DefaultGracePeriod = StopGrace,
                }, loggers, channel: channel));
            }
        }
        catch
        {
            foreach (var a in agents) a.Dispose();
            channel.Dispose();
            throw;
        }

        return new LocalAgents(channel, agents, parent);
    }

    /// <summary>Node names.</summary>
    public IEnumerable<string> Names => _agents.Select(a => a.Options.NodeName);

    /// <summary>
    /// Stops every job still running (SIGTERM, SIGKILL after <see cref="StopGrace"/>), waits for them to end and
    /// for their ends to reach the scheduler (briefly), then stops the agents.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var running = _agents.SelectMany(a => a.Jobs.Jobs()).Where(j => !j.IsFinished).ToList();
        foreach (var job in running) job.RequestStop(StopKind.Stop, job.Grace < StopGrace ? job.Grace : StopGrace);
        var deadline = DateTime.UtcNow + StopGrace + TimeSpan.FromSeconds(5);
        while (running.Any(j => !j.IsFinished) && DateTime.UtcNow < deadline) await Task.Delay(50).ConfigureAwait(false);
        // The ends go out through the sessions; a scheduler that is already gone gets them from the next run.
        var flushed = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (_agents.Any(a => a.Outbox.Count > 0) && DateTime.UtcNow < flushed) await Task.Delay(50).ConfigureAwait(false);

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_sessions).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            // Sessions end with the cancellation; one that does not is abandoned with the process.
        }

        foreach (var agent in _agents) agent.Dispose();
        _channel.Dispose();
        _stop.Dispose();
        RemoveEmptyGroups();
    }

    /// <summary>The agents' node groups (empty once their jobs ended) and their parent, in every hierarchy.</summary>
    private void RemoveEmptyGroups()
    {
        const string root = "/sys/fs/cgroup";
        if (!Directory.Exists(root)) return;
        foreach (var hierarchy in Directory.GetDirectories(root))
        {
            var parent = Path.Combine(hierarchy, _cgroupParent);
            foreach (var group in Names.Select(n => Path.Combine(parent, n)).Append(parent))
            {
                try
                {
                    if (Directory.Exists(group)) Directory.Delete(group);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Still in use (a job that would not die) or not ours to remove: left as it is.
                }
            }
        }
    }
}
