using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;

namespace Mekong.Transport;

/// <summary>
/// The client side of the transport: gRPC calls over one HttpClient (HTTP/2 only; h2c with prior
/// knowledge for http:// addresses). Same role as Grpc.Net.Client's GrpcChannel plus CallInvoker.
/// </summary>
public sealed class RpcChannel : IDisposable
{
    private readonly HttpClient _http;

    // Per call these would be allocated anew: the method's URI, and the authorization header for the token.
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);
    private (string Token, string Header)? _authorization;

    /// <summary>A channel to an address, over its own SocketsHttpHandler.</summary>
    public RpcChannel(Uri address, RpcChannelOptions? options = null)
        : this(address, new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            // gRPC neither redirects nor sets cookies: without these handlers a call skips two layers.
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        }, options, disposeHandler: true)
    {
    }

    /// <summary>A channel over a given handler (TestServer's, or one with TLS settings).</summary>
    public RpcChannel(Uri address, HttpMessageHandler handler, RpcChannelOptions? options = null, bool disposeHandler = false)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(handler);
        Address = address;
        Options = options ?? new RpcChannelOptions();
        // No HttpClient timeout: calls end by their own deadlines, and watches may last for days.
        _http = new HttpClient(handler, disposeHandler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Address { get; }

    public RpcChannelOptions Options { get; }

    /// <summary>One request, one response.</summary>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions? options = null)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        using var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.Start(new ByteArrayContent(Frame(request)));
        var response = await call.ReadNextAsync(CancellationToken.None).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "The server ended the call without a response message.");
        if (await call.ReadNextAsync(CancellationToken.None).ConfigureAwait(false) is not null)
        {
            throw new RpcException(StatusCode.Internal, "The server sent more than one response message to a unary call.");
        }

        return response;
    }

    /// <summary>One request, a stream of responses. Dispose the call to cancel it.</summary>
    public ServerStreamingCall<TResponse> ServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions? options = null)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.Start(new ByteArrayContent(Frame(request)));
        return new ServerStreamingCall<TResponse>(call, call.GetResponseHeadersAsync, call.GetTrailers, call);
    }

    /// <summary>A stream each way. Dispose the call to cancel it.</summary>
    public DuplexStreamingCall<TRequest, TResponse> Duplex<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions? options = null)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        var content = new StreamingRequestContent();
        call.Start(content);
        return new DuplexStreamingCall<TRequest, TResponse>(
            new RequestStreamWriter<TRequest>(this, content, call),
            new ServerStreamingCall<TResponse>(call, call.GetResponseHeadersAsync, call.GetTrailers, call));
    }

    internal HttpClient Http => _http;

    internal byte[] Frame(IMessage message)
    {
        var size = message.CalculateSize();
        if (Options.MaxSendMessageSize is { } max && size > max)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {max}).");
        }

        var bytes = new byte[GrpcProtocol.HeaderSize + size];
        GrpcProtocol.WriteHeader(bytes, compressed: false, size);
        message.WriteTo(bytes.AsSpan(GrpcProtocol.HeaderSize));
        return bytes;
    }

    internal HttpRequestMessage CreateRequest(string path, CallOptions? options, TimeSpan? timeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _uris.GetOrAdd(path, static (p, address) => new Uri(address, p), Address))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, "identity");
        request.Headers.TryAddWithoutValidation("user-agent", "mekong-transport/1");
        if (timeout is { } t)
        {
            request.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.FormatTimeout(t));
        }

        if (Options.BearerToken is { } token)
        {
            if (_authorization is not { } auth || !ReferenceEquals(auth.Token, token)) _authorization = auth = (token, "Bearer " + token);
            request.Headers.TryAddWithoutValidation("authorization", auth.Header);
        }

        if (options?.Headers is { } headers)
        {
            foreach (var (key, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(key, value);
            }
        }

        return request;
    }

    public void Dispose() => _http.Dispose();
}
