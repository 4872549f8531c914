using System.Collections.Concurrent;
using System.Threading.Channels;
using Mekong.Api.V1;

namespace Mekong.Agent.Connection;

/// <summary>
/// Job state changes waiting to be sent, in order. They outlive sessions: what happened while the
/// agent was disconnected goes out after the next Inventory. Anything added wakes the session's writer.
/// </summary>
public sealed class Outbox
{
    private readonly ConcurrentQueue<JobStateChange> _changes = new();
    private readonly ConcurrentQueue<JobStateChange> _sentThisSession = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public int Count => _changes.Count;

    public void Add(JobStateChange change)
    {
        _changes.Enqueue(change);
        Wake();
    }

    public bool TryPeek(out JobStateChange change) => _changes.TryPeek(out change!);

    public bool TryDequeue(out JobStateChange change) => _changes.TryDequeue(out change!);

    /// <summary>A job's end went out on the current session. A write to a stream the scheduler is just closing can
    /// succeed locally and still be lost, so ends are kept until the session has ended.</summary>
    public void SentEnd(JobStateChange change) => _sentThisSession.Enqueue(change);

    /// <summary>The session ended: its ends go out again on the next one, after its Inventory (the scheduler
    /// ignores an end it already has). Called between sessions, so nothing else sends meanwhile.</summary>
    public void ResendEndsOfLastSession()
    {
        while (_sentThisSession.TryDequeue(out var change)) _changes.Enqueue(change);
    }

    /// <summary>Wakes the writer (new work: a change, an acknowledgement).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Waits for a wake-up or the timeout.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_wake.Reader.TryRead(out _))
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero);
        try
        {
            await _wake.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Timed out.
        }

    }
}
