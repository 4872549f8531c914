namespace Mekong.Transport;

/// <summary>Writes a client's stream of request messages.</summary>
public interface IClientStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);

    /// <summary>Ends the request stream (half-close).</summary>
    Task CompleteAsync();
}
