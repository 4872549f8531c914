namespace Mekong.Transport;

/// <summary>The kinds of RPC the transport serves (client streaming is not used by Mekong's API).</summary>
public enum MethodType
{
    /// <summary>One request, one response.</summary>
    Unary,

    /// <summary>One request, a stream of responses.</summary>
    ServerStreaming,

    /// <summary>A stream each way, independent of each other.</summary>
    DuplexStreaming,
}
