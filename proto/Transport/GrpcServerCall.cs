using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Mekong.Transport;

/// <summary>
/// One gRPC call on the server: reads length-prefixed requests from the HTTP/2 request body, runs
/// the handler, writes length-prefixed responses (flushed one by one) and ends with the status in
/// trailers, or in the headers alone (trailers-only) when nothing was written.
/// </summary>
internal sealed class GrpcServerCall<TRequest, TResponse> : IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private readonly ServerMethod<TRequest, TResponse> _method;
    private readonly HttpContext _http;
    private readonly RpcServerOptions _options;
    // Writes and the final status are serialised: a deadline may end the call while the handler writes.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private CancellationTokenSource? _deadline;
    private CancellationTokenSource? _call;
    private CallContext? _context;
    private bool _completed;
    private bool _wroteMessage;
    private TRequest? _current;

    public GrpcServerCall(ServerMethod<TRequest, TResponse> method, HttpContext http, RpcServerOptions options)
    {
        _method = method;
        _http = http;
        _options = options;
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        _call?.Dispose();
        _deadline?.Dispose();
    }

    public TRequest Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public async Task RunAsync()
    {
        var request = _http.Request;
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            _http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            _http.Response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Internal).ToString(CultureInfo.InvariantCulture);
            _http.Response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage($"Content-Type '{request.ContentType}' is not supported; use application/grpc.");
            return;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
        {
            // gRPC needs trailers and full duplex; HTTP/1.1 callers belong on /api/v1 (JSON).
            _http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            _http.Response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Internal).ToString(CultureInfo.InvariantCulture);
            _http.Response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage($"gRPC needs HTTP/2; this request is {request.Protocol}. Use POST /api/v1/... for JSON over HTTP/1.1.");
            return;
        }

        LiftKestrelLimits();
        var timeout = GrpcProtocol.ParseTimeout(request.Headers[GrpcProtocol.TimeoutHeader]);
        DateTime? deadline = null;
        // CancellationTokenSource takes at most uint.MaxValue - 1 ms; longer timeouts are no deadline.
        if (timeout is { } t && t.TotalMilliseconds < int.MaxValue)
        {
            deadline = DateTime.UtcNow + t;
            _deadline = new CancellationTokenSource(t);
        }

        _call = _deadline is null
            ? CancellationTokenSource.CreateLinkedTokenSource(_http.RequestAborted)
            : CancellationTokenSource.CreateLinkedTokenSource(_http.RequestAborted, _deadline.Token);
        _context = new CallContext(_http, _method.FullName, RpcProtocol.Grpc, deadline, _call.Token) { SendResponseHeaders = SendHeadersAsync };
        try
        {
            var handler = RunHandlerAsync();
            if (_deadline is not null)
            {
                // A handler that ignores its token must not hold the client past its deadline:
                // the status goes out when the deadline passes, and later writes are refused.
                var expired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (_deadline.Token.Register(() => expired.TrySetResult()))
                {
                    if (await Task.WhenAny(handler, expired.Task).ConfigureAwait(false) != handler)
                    {
                        await WriteStatusAsync(StatusCode.DeadlineExceeded, "Deadline exceeded", null).ConfigureAwait(false);
                    }
                }
            }

            // The handler is always awaited before the request ends: the HttpContext must outlive it.
            var (code, detail, trailers) = await handler.ConfigureAwait(false);
            await WriteStatusAsync(code, detail, trailers).ConfigureAwait(false);
        }
        finally
        {
            // Nothing may touch the call after the handler is done; tokens stay valid until Dispose.
            _deadline?.Dispose();
            _deadline = null;
        }
    }

    private async Task<(StatusCode, string, Metadata?)> RunHandlerAsync()
    {
        if (_deadline is not null || _method.Type != MethodType.Unary)
        {
            // Off Kestrel's request thread, so that RunAsync can start watching the deadline (and a long-lived
            // stream handler does not run on it). A unary call without a deadline has nothing to watch: it runs
            // inline up to its first await, saving a thread-pool hop per call.
            await Task.Yield();
        }

        var context = _context!;
        try
        {
            switch (_method.Type)
            {
                case MethodType.Unary:
                    {
                        var request = await ReadSingleRequestAsync().ConfigureAwait(false);
                        var response = await _method.Unary!(request, context).ConfigureAwait(false);
                        // Not flushed: the status that follows completes the response, so the message and the
                        // trailers leave in one write instead of two.
                        await WriteAsync(response, flush: false, CancellationToken.None).ConfigureAwait(false);
                        break;
                    }

                case MethodType.ServerStreaming:
                    {
                        var request = await ReadSingleRequestAsync().ConfigureAwait(false);
                        await _method.ServerStreaming!(request, this, context).ConfigureAwait(false);
                        break;
                    }

                default:
                    await _method.Duplex!(this, this, context).ConfigureAwait(false);
                    break;
            }

            return (StatusCode.OK, "", null);
        }
#pragma warning disable CA1031 // Every failure of a handler becomes a status; none may escape to Kestrel.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ServerMethod.StatusOf(ex, _deadline?.IsCancellationRequested == true, _http.RequestAborted.IsCancellationRequested,
                _options, _http, _method.FullName);
        }
    }

    private void LiftKestrelLimits()
    {
        // As Grpc.AspNetCore does: streams are long-lived and may idle, and sizes are checked per
        // message instead of per body.
        var features = _http.Features;
        if (features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        if (features.Get<IHttpMinRequestBodyDataRateFeature>() is { } requestRate)
        {
            requestRate.MinDataRate = null;
        }

        if (features.Get<IHttpMinResponseDataRateFeature>() is { } responseRate)
        {
            responseRate.MinDataRate = null;
        }
    }

    private async Task<TRequest> ReadSingleRequestAsync()
    {
        var request = await ReadMessageAsync(_call!.Token).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "Incomplete request: the call carries no request message.");
        if (await ReadMessageAsync(_call.Token).ConfigureAwait(false) is not null)
        {
            throw new RpcException(StatusCode.Internal, "Additional data after the request message: this method takes exactly one.");
        }

        return request;
    }

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_call!.Token, cancellationToken);
        _current = await ReadMessageAsync(linked.Token).ConfigureAwait(false);
        return _current is not null;
    }

    /// <summary>Reads the next length-prefixed message; null at the end of the request stream.</summary>
    private async Task<TRequest?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        if (_completed)
        {
            throw new InvalidOperationException("The call is complete.");
        }

        var reader = _http.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= GrpcProtocol.HeaderSize)
            {
                var (flag, length) = ReadHeader(buffer);
                if (flag == 1)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.Unimplemented, "Compressed messages are not supported: the server accepts grpc-encoding identity only.");
                }

                if (flag != 0)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.Internal, $"Invalid compressed flag {flag} in the message header.");
                }

                // Checked before the payload arrives, so an oversize message is never buffered.
                if (length > _options.MaxReceiveMessageSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.ResourceExhausted,
                        $"Received message larger than max ({length} vs. {_options.MaxReceiveMessageSize}).");
                }

                if (buffer.Length >= GrpcProtocol.HeaderSize + length)
                {
                    var payload = buffer.Slice(GrpcProtocol.HeaderSize, length);
                    TRequest message;
                    try
                    {
                        message = _method.Method.RequestParser.ParseFrom(payload);
                    }
                    catch (InvalidProtocolBufferException ex)
                    {
                        throw new RpcException(StatusCode.InvalidArgument,
                            $"Malformed request: not a valid {typeof(TRequest).Name} protobuf message ({ex.Message})");
                    }
                    finally
                    {
                        reader.AdvanceTo(payload.End);
                    }

                    return message;
                }
            }

            if (result.IsCompleted)
            {
                var leftover = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (leftover == 0)
                {
                    return null;
                }

                throw new RpcException(StatusCode.Internal, $"Incomplete message: the request stream ended inside a message ({leftover} bytes).");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static (byte Flag, uint Length) ReadHeader(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[GrpcProtocol.HeaderSize];
        buffer.Slice(0, GrpcProtocol.HeaderSize).CopyTo(header);
        return (header[0], BinaryPrimitives.ReadUInt32BigEndian(header[1..]));
    }

    public Task WriteAsync(TResponse message, CancellationToken cancellationToken = default) =>
        WriteAsync(message, flush: true, cancellationToken);

    private async Task WriteAsync(TResponse message, bool flush, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException("The call is complete; no more messages can be written.");
            }

            _call!.Token.ThrowIfCancellationRequested();
            var size = message.CalculateSize();
            if (_options.MaxSendMessageSize is { } max && size > max)
            {
                throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {max}).");
            }

            StartResponse();
            var writer = _http.Response.BodyWriter;
            GrpcProtocol.WriteHeader(writer.GetSpan(GrpcProtocol.HeaderSize), compressed: false, size);
            writer.Advance(GrpcProtocol.HeaderSize);
            message.WriteTo(writer);
            _wroteMessage = true;
            // Flushed message by message: a streamed event must reach the client now, not at the end.
            if (flush)
            {
                await writer.FlushAsync(_call.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task SendHeadersAsync()
    {
        await _writeLock.WaitAsync(_call!.Token).ConfigureAwait(false);
        try
        {
            if (_completed || _http.Response.HasStarted)
            {
                return;
            }

            StartResponse();
            await _http.Response.StartAsync(_call.Token).ConfigureAwait(false);
            await _http.Response.BodyWriter.FlushAsync(_call.Token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void StartResponse()
    {
        var response = _http.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = "identity";
        foreach (var (key, value) in _context!.ResponseHeaders)
        {
            response.Headers.Append(key, value);
        }
    }

    private async Task WriteStatusAsync(StatusCode code, string detail, Metadata? extraTrailers)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (_http.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            var response = _http.Response;
            // A message written without a flush (unary) has not started the response yet, but needs real trailers.
            var trailersOnly = !response.HasStarted && !_wroteMessage;
            StartResponse();
            void Put(string key, string value)
            {
                if (trailersOnly)
                {
                    response.Headers.Append(key, value);
                }
                else
                {
                    response.AppendTrailer(key, value);
                }
            }

            Put(GrpcProtocol.StatusHeader, ((int)code).ToString(CultureInfo.InvariantCulture));
            if (!string.IsNullOrEmpty(detail))
            {
                Put(GrpcProtocol.MessageHeader, GrpcProtocol.EncodeMessage(detail));
            }

            foreach (var (key, value) in _context!.ResponseTrailers.Concat(extraTrailers ?? []))
            {
                Put(key, value);
            }

            // On an unstarted response this sends one HEADERS frame with END_STREAM: a trailers-only
            // response. (Starting the response first would send HEADERS, then an empty DATA frame
            // ending the stream, and real clients read that as a call with no status.)
            await response.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            var logger = ServerMethod.LoggerFor(_http);
            TransportLog.StatusNotWritten(logger, _method.FullName, ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
