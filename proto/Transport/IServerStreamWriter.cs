namespace Mekong.Transport;

/// <summary>Writes a stream of response messages; each one is flushed to the client.</summary>
public interface IServerStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}
