using System.Threading.Channels;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Agents;

/// <summary>One connected agent: an outbox of scheduler messages drained onto its stream. Sends never block
/// the scheduler loop; a closed session drops them (the reconnect's inventory reconciles).</summary>
internal sealed class AgentSession(string node, string agentVersion) : IDisposable
{
    private readonly Channel<SchedulerMessage> _outbox = Channel.CreateUnbounded<SchedulerMessage>(new UnboundedChannelOptions { SingleReader = true });
    private long _sequence;
    private readonly CancellationTokenSource _closing = new();
    private RpcException? _closedWith;

    public string Node { get; } = node;

    public string AgentVersion { get; } = agentVersion;

    public bool Closed => Volatile.Read(ref _closedWith) is not null;

    /// <summary>Why the scheduler closed the session, if it did.</summary>
    public RpcException? ClosedWith => Volatile.Read(ref _closedWith);

    public ChannelReader<SchedulerMessage> Outbox => _outbox.Reader;

    /// <summary>Fires when the scheduler closes the session, to stop reading the agent's stream.</summary>
    public CancellationToken Closing => _closing.Token;

    public void Send(SchedulerMessage message)
    {
        message.Sequence = (ulong)Interlocked.Increment(ref _sequence);
        _outbox.Writer.TryWrite(message);
    }

    /// <summary>Ends the session from the scheduler's side; the stream closes with <paramref name="status"/>.</summary>
    public void Close(RpcException status)
    {
        if (Interlocked.CompareExchange(ref _closedWith, status, null) is not null) return;
        _outbox.Writer.TryComplete();
        _closing.Cancel();
    }

    public void Dispose() => _closing.Dispose();
}
