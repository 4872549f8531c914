namespace Mekong.Transport;

/// <summary>
/// A call that ended with a non-OK status. Handlers throw it to answer with a status; clients
/// receive it when the server (or the transport) ended the call with one. Same role as
/// Grpc.Core.RpcException, so code using it moves over when Grpc.AspNetCore becomes available.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(StatusCode statusCode, string detail, Metadata? trailers = null)
        : base($"Status(StatusCode=\"{statusCode}\", Detail=\"{detail}\")")
    {
        StatusCode = statusCode;
        Detail = detail;
        Trailers = trailers ?? new Metadata();
    }

    public RpcException()
        : this(StatusCode.Unknown, "")
    {
    }

    public RpcException(string message)
        : this(StatusCode.Unknown, message)
    {
    }

    public RpcException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCode.Unknown;
        Detail = message;
        Trailers = new Metadata();
    }

    public RpcException(StatusCode statusCode, string detail, Exception innerException)
        : base($"Status(StatusCode=\"{statusCode}\", Detail=\"{detail}\")", innerException)
    {
        StatusCode = statusCode;
        Detail = detail;
        Trailers = new Metadata();
    }

    /// <summary>The status code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The status message (grpc-message), for people.</summary>
    public string Detail { get; }

    /// <summary>Trailers sent (server) or received (client) with the status.</summary>
    public Metadata Trailers { get; }
}
