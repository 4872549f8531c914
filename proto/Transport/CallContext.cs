using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Mekong.Transport;

/// <summary>How a call reached the server.</summary>
public enum RpcProtocol
{
    /// <summary>gRPC over HTTP/2.</summary>
    Grpc,

    /// <summary>JSON over HTTP (POST /api/v1/Service/Method).</summary>
    Json,
}

/// <summary>
/// What a handler knows about its call (Grpc.Core's ServerCallContext, reduced): request metadata,
/// response metadata, the deadline and the cancellation token that fires when the deadline passes or
/// the client goes away.
/// </summary>
public sealed class CallContext
{
    internal CallContext(HttpContext httpContext, string method, RpcProtocol protocol, DateTime? deadline, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        Method = method;
        Protocol = protocol;
        Deadline = deadline;
        CancellationToken = cancellationToken;
        foreach (var header in httpContext.Request.Headers)
        {
            if (GrpcProtocol.IsReservedHeader(header.Key))
            {
                continue;
            }

            foreach (var value in header.Value)
            {
                if (value is not null)
                {
                    RequestHeaders.Add(header.Key, value);
                }
            }
        }
    }

    internal Func<Task>? SendResponseHeaders { get; set; }

    /// <summary>
    /// Sends the response headers now, before any message (for example to tell a watcher that its
    /// subscription is in place). Later changes to <see cref="ResponseHeaders"/> have no effect.
    /// </summary>
    public Task WriteResponseHeadersAsync() => SendResponseHeaders?.Invoke() ?? Task.CompletedTask;

    /// <summary>The gRPC path of the method, "/mekong.v1.JobService/SubmitJob".</summary>
    public string Method { get; }

    /// <summary>gRPC or JSON.</summary>
    public RpcProtocol Protocol { get; }

    /// <summary>When the call must be done by (UTC), from grpc-timeout; null when the client set none.</summary>
    public DateTime? Deadline { get; }

    /// <summary>Fires when the deadline passes or the client cancels (resets the stream).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The request's headers, protocol headers left out.</summary>
    public Metadata RequestHeaders { get; } = new();

    /// <summary>Headers to send with the response; only effective before the first message is written.</summary>
    public Metadata ResponseHeaders { get; } = new();

    /// <summary>Trailers to send with the status.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The caller as authentication middleware established it.</summary>
    public ClaimsPrincipal User => HttpContext.User;

    /// <summary>The caller's address, "ipv4:127.0.0.1:5555" style.</summary>
    public string Peer => HttpContext.Connection.RemoteIpAddress is { } ip
        ? $"{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4")}:{ip}:{HttpContext.Connection.RemotePort}"
        : "unknown";

    /// <summary>The underlying HTTP request; for what the transport does not abstract.</summary>
    public HttpContext HttpContext { get; }
}
