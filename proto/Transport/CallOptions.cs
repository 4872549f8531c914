namespace Mekong.Transport;

/// <summary>Per-call options of the client.</summary>
public sealed class CallOptions
{
    /// <summary>Extra request metadata.</summary>
    public Metadata? Headers { get; init; }

    /// <summary>When the call must be done by (UTC); sent as grpc-timeout and enforced locally too.</summary>
    public DateTime? Deadline { get; init; }

    /// <summary>Cancels the call (the client resets the HTTP/2 stream).</summary>
    public CancellationToken CancellationToken { get; init; }
}
