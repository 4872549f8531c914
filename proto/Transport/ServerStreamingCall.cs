namespace Mekong.Transport;

/// <summary>A running server-streaming call. Dispose it to cancel the call.</summary>
public sealed class ServerStreamingCall<TResponse> : IDisposable
{
    private readonly IAsyncStreamReader<TResponse> _reader;
    private readonly Func<Task<Metadata>> _headers;
    private readonly Func<Metadata> _trailers;
    private readonly IDisposable _call;

    internal ServerStreamingCall(IAsyncStreamReader<TResponse> reader, Func<Task<Metadata>> headers, Func<Metadata> trailers, IDisposable call)
    {
        _reader = reader;
        _headers = headers;
        _trailers = trailers;
        _call = call;
    }

    /// <summary>The responses; MoveNext throws RpcException when the call ends with an error status.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream => _reader;

    /// <summary>The response headers.</summary>
    public Task<Metadata> ResponseHeadersAsync => _headers();

    /// <summary>The trailers, after the response stream ended.</summary>
    public Metadata GetTrailers() => _trailers();

    public void Dispose() => _call.Dispose();
}
