namespace Mekong.Transport;

/// <summary>A running bidirectional call. Dispose it to cancel the call.</summary>
public sealed class DuplexStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly ServerStreamingCall<TResponse> _responses;

    internal DuplexStreamingCall(IClientStreamWriter<TRequest> requestStream, ServerStreamingCall<TResponse> responses)
    {
        RequestStream = requestStream;
        _responses = responses;
    }

    /// <summary>Where requests go; CompleteAsync half-closes.</summary>
    public IClientStreamWriter<TRequest> RequestStream { get; }

    /// <summary>The responses; MoveNext throws RpcException when the call ends with an error status.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream => _responses.ResponseStream;

    /// <summary>The response headers.</summary>
    public Task<Metadata> ResponseHeadersAsync => _responses.ResponseHeadersAsync;

    /// <summary>The trailers, after the response stream ended.</summary>
    public Metadata GetTrailers() => _responses.GetTrailers();

    public void Dispose() => _responses.Dispose();
}
