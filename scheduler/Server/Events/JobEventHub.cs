using System.Threading.Channels;
using Mekong.Api.V1;
using Mekong.Store;

namespace Mekong.Scheduler.Events;

/// <summary>Fans committed job events out to watchers. Each watcher has a bounded queue; one that falls too far
/// behind is cut off (its stream ends with RESOURCE_EXHAUSTED) rather than slowing the scheduler.</summary>
internal sealed class JobEventHub(TimeProvider time)
{
    private const int QueueLength = 4096;
    private readonly Lock _lock = new();
    private Subscription[] _subscriptions = [];
    private long _sequence;

    public Subscription Subscribe(Func<Mekong.Api.V1.JobEvent, bool> filter)
    {
        var s = new Subscription(this, filter);
        lock (_lock) _subscriptions = [.. _subscriptions, s];
        return s;
    }

    /// <summary>Publishes an event about <paramref name="job"/> (after its change is committed).</summary>
    public void Publish(JobEventType type, StoredJob job, Store.JobState? previous)
    {
        var sequence = (ulong)Interlocked.Increment(ref _sequence);
        var subscriptions = Volatile.Read(ref _subscriptions);
        if (subscriptions.Length == 0) return;
        var e = new Mekong.Api.V1.JobEvent
        {
            Type = type,
            Job = ProtoMapping.ToProto(job, null),
            Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            Sequence = sequence,
        };
        if (previous is { } p) e.PreviousState = ProtoMapping.ToProto(p);
        foreach (var s in subscriptions) s.Offer(e);
    }

    private void Remove(Subscription s)
    {
        lock (_lock) _subscriptions = _subscriptions.Where(x => x != s).ToArray();
    }

    /// <summary>One watcher's queue of events.</summary>
    internal sealed class Subscription(JobEventHub hub, Func<Mekong.Api.V1.JobEvent, bool> filter) : IDisposable
    {
        private readonly Channel<Mekong.Api.V1.JobEvent> _queue = Channel.CreateBounded<Mekong.Api.V1.JobEvent>(new BoundedChannelOptions(QueueLength) { SingleReader = true });

        public ChannelReader<Mekong.Api.V1.JobEvent> Reader => _queue.Reader;

        /// <summary>The watcher fell behind and lost events.</summary>
        public bool Overflowed { get; private set; }

        internal void Offer(Mekong.Api.V1.JobEvent e)
        {
            if (!filter(e)) return;
            if (!_queue.Writer.TryWrite(e))
            {
                Overflowed = true;
                _queue.Writer.TryComplete();
            }
        }

        public void Dispose()
        {
            hub.Remove(this);
            _queue.Writer.TryComplete();
        }
    }
}
