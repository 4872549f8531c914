using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Mekong.Transport;

/// <summary>
/// One call of the JSON face of a method: POST /api/v1/Service/Method with a proto3 JSON body.
/// Unary answers one JSON object; server streaming answers newline-delimited JSON, one message per
/// line, and a failure after the first line as a last line {"error":{"code":..,"message":..}}.
/// Errors before any output are {"code":"NOT_FOUND","message":"..."} with a matching HTTP status.
/// </summary>
internal sealed class JsonServerCall<TRequest, TResponse> : IServerStreamWriter<TResponse>, IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private const string NdjsonContentType = "application/x-ndjson";
    private readonly ServerMethod<TRequest, TResponse> _method;
    private readonly HttpContext _http;
    private readonly RpcServerOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private CancellationToken _token;
    private bool _completed;

    public JsonServerCall(ServerMethod<TRequest, TResponse> method, HttpContext http, RpcServerOptions options)
    {
        _method = method;
        _http = http;
        _options = options;
    }

    public void Dispose() => _writeLock.Dispose();

    public async Task RunAsync()
    {
        if (_method.Type == MethodType.DuplexStreaming)
        {
            await WriteErrorAsync(_http, StatusCode.Unimplemented, $"{_method.FullName} is a bidirectional stream and is served over gRPC only.").ConfigureAwait(false);
            return;
        }

        var contentType = _http.Request.ContentType;
        if (!string.IsNullOrEmpty(contentType) && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await WriteErrorAsync(_http, StatusCode.InvalidArgument, $"Content-Type '{contentType}' is not supported; send application/json.",
                StatusCodes.Status415UnsupportedMediaType).ConfigureAwait(false);
            return;
        }

        var timeout = GrpcProtocol.ParseTimeout(_http.Request.Headers[GrpcProtocol.TimeoutHeader]);
        using var deadline = timeout is { } t && t.TotalMilliseconds < int.MaxValue ? new CancellationTokenSource(t) : null;
        using var call = deadline is null
            ? CancellationTokenSource.CreateLinkedTokenSource(_http.RequestAborted)
            : CancellationTokenSource.CreateLinkedTokenSource(_http.RequestAborted, deadline.Token);
        _token = call.Token;
        var requestRead = false;
        var context = new CallContext(_http, _method.FullName, RpcProtocol.Json, timeout is null ? null : DateTime.UtcNow + timeout, call.Token);
        if (_method.Type == MethodType.ServerStreaming)
        {
            context.SendResponseHeaders = () => SendHeadersAsync(context);
        }

        try
        {
            var request = await ReadRequestAsync(call.Token).ConfigureAwait(false);
            requestRead = true;
            if (_method.Type == MethodType.Unary)
            {
                var response = await _method.Unary!(request, context).ConfigureAwait(false);
                _http.Response.StatusCode = StatusCodes.Status200OK;
                _http.Response.ContentType = "application/json; charset=utf-8";
                foreach (var (key, value) in context.ResponseHeaders.Concat(context.ResponseTrailers))
                {
                    _http.Response.Headers.Append(key, value);
                }

                await _http.Response.WriteAsync(_options.JsonFormatter.Format(response), call.Token).ConfigureAwait(false);
            }
            else
            {
                await _method.ServerStreaming!(request, this, context).ConfigureAwait(false);
                await EndStreamAsync(context, null).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Every failure of a handler becomes a status; none may escape to Kestrel.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var (code, detail, _) = ServerMethod.StatusOf(ex, deadline?.IsCancellationRequested == true,
                _http.RequestAborted.IsCancellationRequested, _options, _http, _method.FullName);
            if (_http.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            if (!_http.Response.HasStarted)
            {
                // An oversize body is the one RESOURCE_EXHAUSTED with a more precise HTTP status than 429.
                await WriteErrorAsync(_http, code, detail,
                    code == StatusCode.ResourceExhausted && !requestRead ? StatusCodes.Status413PayloadTooLarge : null).ConfigureAwait(false);
            }
            else if (_method.Type == MethodType.ServerStreaming)
            {
                await EndStreamAsync(context, (code, detail)).ConfigureAwait(false);
            }
        }
    }

    private async Task<TRequest> ReadRequestAsync(CancellationToken cancellationToken)
    {
        var max = _options.MaxReceiveMessageSize;
        if (_http.Request.ContentLength > max)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Request body larger than max ({_http.Request.ContentLength} vs. {max}).");
        }

        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await _http.Request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > max)
            {
                throw new RpcException(StatusCode.ResourceExhausted, $"Request body larger than max ({max} bytes).");
            }

            body.Write(buffer, 0, read);
        }

        if (body.Length == 0)
        {
            return new TRequest();
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body.GetBuffer(), 0, (int)body.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new RpcException(StatusCode.InvalidArgument, "Malformed request: the body is not UTF-8.");
        }

        try
        {
            return _options.JsonParser.Parse<TRequest>(text);
        }
        catch (Exception ex) when (ex is InvalidJsonException or InvalidProtocolBufferException or FormatException or InvalidOperationException)
        {
            throw new RpcException(StatusCode.InvalidArgument, $"Malformed request: not a valid {typeof(TRequest).Name} in proto3 JSON ({ex.Message})");
        }
    }

    public async Task WriteAsync(TResponse message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException("The call is complete; no more messages can be written.");
            }

            _token.ThrowIfCancellationRequested();
            StartStream();
            await _http.Response.WriteAsync(_options.JsonFormatter.Format(message) + "\n", _token).ConfigureAwait(false);
            await _http.Response.Body.FlushAsync(_token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task SendHeadersAsync(CallContext context)
    {
        await _writeLock.WaitAsync(_token).ConfigureAwait(false);
        try
        {
            if (_completed || _http.Response.HasStarted)
            {
                return;
            }

            StartStream();
            foreach (var (key, value) in context.ResponseHeaders)
            {
                _http.Response.Headers.Append(key, value);
            }

            await _http.Response.StartAsync(_token).ConfigureAwait(false);
            await _http.Response.Body.FlushAsync(_token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void StartStream()
    {
        if (!_http.Response.HasStarted)
        {
            _http.Response.StatusCode = StatusCodes.Status200OK;
            _http.Response.ContentType = NdjsonContentType;
        }
    }

    private async Task EndStreamAsync(CallContext context, (StatusCode Code, string Detail)? error)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (error is { } e)
            {
                var line = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["error"] = new Dictionary<string, string> { ["code"] = GrpcProtocol.CodeName(e.Code), ["message"] = e.Detail },
                });
                await _http.Response.WriteAsync(line + "\n").ConfigureAwait(false);
                return;
            }

            if (!_http.Response.HasStarted)
            {
                StartStream();
                foreach (var (key, value) in context.ResponseHeaders)
                {
                    _http.Response.Headers.Append(key, value);
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes a JSON error {"code","message"} with the HTTP status of the code.</summary>
    internal static async Task WriteErrorAsync(HttpContext http, StatusCode code, string message, int? httpStatus = null)
    {
        http.Response.StatusCode = httpStatus ?? GrpcProtocol.ToHttpStatus(code);
        http.Response.ContentType = "application/json; charset=utf-8";
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["code"] = GrpcProtocol.CodeName(code), ["message"] = message });
        await http.Response.WriteAsync(body).ConfigureAwait(false);
    }
}
