using System.Globalization;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Mekong.Transport;

/// <summary>
/// One call on the client: sends the request (headers, then the framed body), reads framed
/// responses as they arrive and the status from the trailers (or from the headers of a
/// trailers-only response), and turns transport failures into RpcException.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IAsyncStreamReader<TResponse>, IDisposableCall, IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcProtocol.ContentType);
    private readonly RpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions? _options;
    private readonly CancellationTokenSource? _deadline;
    private readonly CancellationTokenSource _cts;
    private readonly HttpRequestMessage _request;
    private readonly byte[] _header = new byte[GrpcProtocol.HeaderSize];
    private Task<HttpResponseMessage>? _response;
    private Stream? _body;
    private Metadata? _trailers;
    private bool _disposed;
    private TResponse? _current;

    public ClientCall(RpcChannel channel, Method<TRequest, TResponse> method, CallOptions? options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        TimeSpan? timeout = null;
        if (options?.Deadline is { } deadline)
        {
            var left = deadline.ToUniversalTime() - DateTime.UtcNow;
            timeout = left < TimeSpan.Zero ? TimeSpan.Zero : left;
            _deadline = left.TotalMilliseconds < int.MaxValue ? new CancellationTokenSource(timeout.Value) : null;
        }

        _cts = _deadline is null
            ? CancellationTokenSource.CreateLinkedTokenSource(options?.CancellationToken ?? CancellationToken.None)
            : CancellationTokenSource.CreateLinkedTokenSource(options?.CancellationToken ?? CancellationToken.None, _deadline.Token);
        _request = channel.CreateRequest(method.FullName, options, timeout);
    }

    public TResponse Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public CancellationToken CallToken => _cts.Token;

    public void Start(HttpContent content)
    {
        content.Headers.ContentType = GrpcContentType;
        _request.Content = content;
        _response = SendAsync();
    }

    private async Task<HttpResponseMessage> SendAsync()
    {
        HttpResponseMessage response;
        try
        {
            response = await _channel.Http.SendAsync(_request, HttpCompletionOption.ResponseHeadersRead, _cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Failure(ex, "Error starting the call");
        }

        if (_cts.IsCancellationRequested)
        {
            // Cancelled (or past the deadline) as the headers arrived: what arrived is not trusted.
            response.Dispose();
            throw Failure(new OperationCanceledException(_cts.Token), "Error starting the call");
        }

        if (response.Headers.TryGetValues(GrpcProtocol.StatusHeader, out _))
        {
            // Trailers-only: the status is in the headers and there is no body.
            return response;
        }

        if ((int)response.StatusCode != 200)
        {
            var code = GrpcProtocol.FromHttpStatus((int)response.StatusCode);
            response.Dispose();
            throw new RpcException(code, $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}.");
        }

        if (!GrpcProtocol.IsGrpcContentType(response.Content.Headers.ContentType?.MediaType))
        {
            var contentType = response.Content.Headers.ContentType?.ToString();
            response.Dispose();
            throw new RpcException(StatusCode.Internal, $"Bad gRPC response. Content-Type '{contentType}' is not application/grpc.");
        }

        return response;
    }

    /// <summary>The response headers (waits for them).</summary>
    public async Task<Metadata> GetResponseHeadersAsync()
    {
        var response = await _response!.ConfigureAwait(false);
        return ToMetadata(response.Headers);
    }

    /// <summary>The trailers, once the response stream has ended.</summary>
    public Metadata GetTrailers() => _trailers ?? throw new InvalidOperationException("The call has not finished yet.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        _current = await ReadNextAsync(cancellationToken).ConfigureAwait(false);
        return _current is not null;
    }

    /// <summary>The next response message; null at the end of a call that ended with OK.</summary>
    public async Task<TResponse?> ReadNextAsync(CancellationToken cancellationToken)
    {
        var response = await _response!.ConfigureAwait(false);
        if (response.Headers.TryGetValues(GrpcProtocol.StatusHeader, out _))
        {
            ThrowOnStatus(response.Headers);
            return null;
        }

        using var registration = cancellationToken.CanBeCanceled ? cancellationToken.Register(() => _cts.Cancel()) : default;
        try
        {
            _body ??= await response.Content.ReadAsStreamAsync(_cts.Token).ConfigureAwait(false);
            var read = await _body.ReadAtLeastAsync(_header, GrpcProtocol.HeaderSize, throwOnEndOfStream: false, _cts.Token).ConfigureAwait(false);
            if (read == 0)
            {
                ThrowOnStatus(response.TrailingHeaders);
                return null;
            }

            if (read < GrpcProtocol.HeaderSize)
            {
                throw new RpcException(StatusCode.Internal, "Incomplete message: the response ended inside a message header.");
            }

            if (_header[0] != 0)
            {
                throw new RpcException(StatusCode.Internal, "The server sent a compressed message; this client accepts identity only.");
            }

            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
            if (length > _channel.Options.MaxReceiveMessageSize)
            {
                throw new RpcException(StatusCode.ResourceExhausted,
                    $"Received message larger than max ({length} vs. {_channel.Options.MaxReceiveMessageSize}).");
            }

            var payload = new byte[length];
            await _body.ReadExactlyAsync(payload, _cts.Token).ConfigureAwait(false);
            try
            {
                return _method.ResponseParser.ParseFrom(payload);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(StatusCode.Internal, $"Malformed response: not a valid {typeof(TResponse).Name} ({ex.Message})");
            }
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.ResourceExhausted or StatusCode.Internal && !_cts.IsCancellationRequested)
        {
            // The client gives up on the call: reset the stream.
            await _cts.CancelAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Failure(ex, "Error reading the next message");
        }
    }

    private void ThrowOnStatus(HttpHeaders headers)
    {
        var trailers = ToMetadata(headers);
        _trailers = trailers;
        var statusText = trailers.Get(GrpcProtocol.StatusHeader);
        if (statusText is null)
        {
            throw new RpcException(StatusCode.Internal, "The response ended without a grpc-status.");
        }

        if (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status < 0 || status > 16)
        {
            throw new RpcException(StatusCode.Unknown, $"Unknown grpc-status '{statusText}'.");
        }

        if (status != 0)
        {
            throw new RpcException((StatusCode)status, GrpcProtocol.DecodeMessage(trailers.Get(GrpcProtocol.MessageHeader)), trailers);
        }
    }

    /// <summary>The status a local failure means: deadline, cancellation, or the server unreachable.</summary>
    public RpcException Failure(Exception ex, string what)
    {
        if (_deadline?.IsCancellationRequested == true)
        {
            return new RpcException(StatusCode.DeadlineExceeded, "Deadline exceeded", ex);
        }

        if (_disposed || _cts.IsCancellationRequested)
        {
            return new RpcException(StatusCode.Cancelled, "Call cancelled", ex);
        }

        return ex is HttpRequestException
            ? new RpcException(StatusCode.Unavailable, $"{what}: {ex.Message}", ex)
            : new RpcException(StatusCode.Internal, $"{what}: {ex.Message}", ex);
    }

    private static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var header in headers)
        {
            foreach (var value in header.Value)
            {
                metadata.Add(header.Key, value);
            }
        }

        return metadata;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        // Cancelling resets the HTTP/2 stream when the call is still running: the server sees the
        // client go away and cancels its handler.
        _cts.Cancel();
        if (_response is { IsCompletedSuccessfully: true })
        {
            _response.Result.Dispose();
        }

        _request.Dispose();
        _cts.Dispose();
        _deadline?.Dispose();
    }
}
