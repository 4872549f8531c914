using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mekong.Transport;

/// <summary>A registered method, without its message types: what the endpoints call.</summary>
public abstract class ServerMethod
{
    private protected ServerMethod()
    {
    }

    public abstract MethodType Type { get; }

    public abstract string FullName { get; }

    public abstract string JsonPath { get; }

    internal abstract Task HandleGrpcAsync(HttpContext httpContext, RpcServerOptions options);

    internal abstract Task HandleJsonAsync(HttpContext httpContext, RpcServerOptions options);

    /// <summary>The status a handler's exception ends the call with.</summary>
    internal static (StatusCode Code, string Detail, Metadata? Trailers) StatusOf(
        Exception exception, bool deadlinePassed, bool clientGone, RpcServerOptions options, HttpContext httpContext, string method)
    {
        if (exception is RpcException rpc)
        {
            return (rpc.StatusCode, rpc.Detail, rpc.Trailers);
        }

        if (deadlinePassed)
        {
            return (StatusCode.DeadlineExceeded, "Deadline exceeded", null);
        }

        if (clientGone || exception is OperationCanceledException)
        {
            return (StatusCode.Cancelled, "Call cancelled", null);
        }

        var logger = LoggerFor(httpContext);
        TransportLog.HandlerFailed(logger, method, exception);
        return (StatusCode.Unknown,
            options.IncludeExceptionDetails ? $"Exception was thrown by handler. {exception.GetType().Name}: {exception.Message}" : "Exception was thrown by handler.",
            null);
    }

    internal static ILogger LoggerFor(HttpContext httpContext) =>
        httpContext.RequestServices?.GetService<ILoggerFactory>()?.CreateLogger("Mekong.Transport.RpcServer") ?? NullLogger.Instance;
}

/// <summary>A registered method with its handler.</summary>
public sealed class ServerMethod<TRequest, TResponse> : ServerMethod
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    internal ServerMethod(
        Method<TRequest, TResponse> method,
        Func<TRequest, CallContext, Task<TResponse>>? unary,
        Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task>? serverStreaming,
        Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, CallContext, Task>? duplex)
    {
        Method = method;
        Unary = unary;
        ServerStreaming = serverStreaming;
        Duplex = duplex;
    }

    public Method<TRequest, TResponse> Method { get; }

    public override MethodType Type => Method.Type;

    public override string FullName => Method.FullName;

    public override string JsonPath => Method.JsonPath;

    internal Func<TRequest, CallContext, Task<TResponse>>? Unary { get; }

    internal Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task>? ServerStreaming { get; }

    internal Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, CallContext, Task>? Duplex { get; }

    internal override async Task HandleGrpcAsync(HttpContext httpContext, RpcServerOptions options)
    {
        using var call = new GrpcServerCall<TRequest, TResponse>(this, httpContext, options);
        await call.RunAsync().ConfigureAwait(false);
    }

    internal override async Task HandleJsonAsync(HttpContext httpContext, RpcServerOptions options)
    {
        using var call = new JsonServerCall<TRequest, TResponse>(this, httpContext, options);
        await call.RunAsync().ConfigureAwait(false);
    }
}
