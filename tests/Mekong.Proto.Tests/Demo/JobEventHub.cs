using System.Threading.Channels;
using Mekong.Api.V1;

namespace Mekong.Proto.Tests.Demo;

/// <summary>Fans job events out to watchers.</summary>
internal sealed class JobEventHub
{
    private readonly Lock _lock = new();
    private readonly List<Channel<JobEvent>> _subscribers = [];

    public Channel<JobEvent> Subscribe()
    {
        var channel = Channel.CreateUnbounded<JobEvent>();
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return channel;
    }

    public void Unsubscribe(Channel<JobEvent> channel)
    {
        lock (_lock)
        {
            _subscribers.Remove(channel);
        }
    }

    public void Publish(JobEvent e)
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(e.Clone());
            }
        }
    }
}
