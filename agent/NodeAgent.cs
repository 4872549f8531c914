using System.Reflection;
using Mekong.Agent.Connection;
using Mekong.Agent.ControlGroups;
using Mekong.Agent.Discovery;
using Mekong.Agent.Execution;
using Mekong.Agent.Logs;
using Mekong.Agent.Usage;
using Mekong.Api.V1;
using Mekong.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mekong.Agent;

/// <summary>
/// One node's agent: its inventory, its jobs and its session with the scheduler, reconnected with
/// backoff for as long as <see cref="RunAsync"/> runs. Jobs do not depend on the session: they keep
/// running while it is down, and what happened meanwhile is reported after the next Inventory.
/// Everything is per instance, so one process can host many agents (give them one shared
/// <see cref="RpcChannel"/>: HTTP/2 multiplexes their streams).
/// </summary>
public sealed partial class NodeAgent : IDisposable
{
    private readonly RpcChannel _channel;
    private readonly bool _ownsChannel;
    private readonly ILogger _logger;
    private int _sessions;

    public NodeAgent(AgentOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null, RpcChannel? channel = null, NodeInventory? inventory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Time = time ?? TimeProvider.System;
        StartTime = Time.GetUtcNow();
        _logger = loggers?.CreateLogger("Mekong.Agent." + options.NodeName) ?? NullLogger.Instance;
        Inventory = inventory ?? NodeDiscovery.Discover(options);
        Cgroups = options.SimulateExecution
            ? new NoCgroupDriver("simulated execution")
            : CgroupDriver.Detect(options.Cgroups, options.CgroupParent, options.NodeName);
        Log.Started(_logger, options.NodeName, Inventory.Gpus.Count, Cgroups.Description);
        Jobs = new JobRunner(options, Inventory, Cgroups, Time, _logger);
        Logs = new LogForwarder(Time);
        Usage = new UsageSampler(options, Inventory, Time);
        Jobs.StateChanged += Outbox.Add;
        Jobs.Recover();
        _ownsChannel = channel is null;
        _channel = channel ?? new RpcChannel(options.Server);
    }

    /// <summary>The agent's version, sent in Hello.</summary>
    public static string Version { get; } =
        typeof(NodeAgent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    public AgentOptions Options { get; }

    public TimeProvider Time { get; }

    /// <summary>When this agent instance started (Hello.agent_start_time).</summary>
    public DateTimeOffset StartTime { get; }

    public NodeInventory Inventory { get; }

    public CgroupDriver Cgroups { get; }

    public JobRunner Jobs { get; }

    public Outbox Outbox { get; } = new();

    internal LogForwarder Logs { get; }

    internal UsageSampler Usage { get; }

    /// <summary>Sessions the scheduler welcomed so far.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Raised when the scheduler welcomes a session.</summary>
    public event Action? Welcomed;

    /// <summary>The Inventory message as of now.</summary>
    public Inventory CurrentInventory() => Inventory.ToMessage(Jobs.Running(), Jobs.CgroupVersion);

    /// <summary>Connects, and reconnects with backoff, until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(Options.ReconnectMinDelay, Options.ReconnectMaxDelay);
        while (!cancellationToken.IsCancellationRequested)
        {
            AgentSession? session = null;
            try
            {
                var headers = new Metadata();
                if (!string.IsNullOrEmpty(Options.Token))
                {
                    headers.Add("authorization", "Bearer " + Options.Token);
                }

                using var call = new AgentServiceClient(_channel).Connect(new CallOptions { Headers = headers, CancellationToken = cancellationToken });
                session = new AgentSession(this, call, _logger);
                await session.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // Any failure of a session (network, protocol, refusal) means: reconnect later.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                Log.SessionFailed(_logger, Options.NodeName, ex.GetType().Name, ex.Message);
            }

            if (session?.Welcomed == true)
            {
                backoff.Reset();
            }

            Outbox.ResendEndsOfLastSession();
            Logs.Rewind();

            var delay = backoff.Next();
            Log.Reconnecting(_logger, Options.NodeName, delay);
            try
            {
                await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    internal void OnWelcomed()
    {
        Interlocked.Increment(ref _sessions);
        Welcomed?.Invoke();
    }

    /// <summary>Lets go of the jobs without stopping them (a restarted agent re-adopts them).</summary>
    public void Dispose()
    {
        Jobs.Dispose();
        if (_ownsChannel)
        {
            _channel.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node}: {Gpus} GPUs; {Cgroups}")]
        public static partial void Started(ILogger logger, string node, int gpus, string cgroups);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Node}: session failed: {Kind}: {Message}")]
        public static partial void SessionFailed(ILogger logger, string node, string kind, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node}: reconnecting in {Delay}")]
        public static partial void Reconnecting(ILogger logger, string node, TimeSpan delay);
    }
}
