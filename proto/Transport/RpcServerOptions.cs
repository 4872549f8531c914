using Google.Protobuf;

namespace Mekong.Transport;

/// <summary>Limits and formats of the server side of the transport.</summary>
public sealed class RpcServerOptions
{
    /// <summary>Largest request message accepted (default 4 MiB, as gRPC's); larger is RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message sent; null means no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Serve the JSON routes (POST /api/v1/Service/Method) as well.</summary>
    public bool EnableJson { get; set; } = true;

    /// <summary>Put exception messages in UNKNOWN statuses (development only).</summary>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>How JSON requests are parsed (proto3 JSON mapping; unknown fields are an error by default).</summary>
    public JsonParser JsonParser { get; set; } = JsonParser.Default;

    /// <summary>How JSON responses are written (proto3 JSON mapping).</summary>
    public JsonFormatter JsonFormatter { get; set; } = JsonFormatter.Default;
}
