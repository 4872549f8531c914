namespace Mekong.Transport;

/// <summary>Options of a client channel.</summary>
public sealed class RpcChannelOptions
{
    /// <summary>Sent as "authorization: Bearer ..." on every call when set.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Largest response message accepted (default 4 MiB); larger is RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest request message sent; null means no limit.</summary>
    public int? MaxSendMessageSize { get; set; }
}
