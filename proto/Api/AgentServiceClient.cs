using Mekong.Transport;

namespace Mekong.Api.V1;

/// <summary>A typed client of mekong.v1.AgentService over an <see cref="RpcChannel"/>.</summary>
public sealed class AgentServiceClient
{
    private readonly RpcChannel _channel;

    public AgentServiceClient(RpcChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
    }

    /// <summary>Opens the node's session stream; dispose the call to close it.</summary>
    public DuplexStreamingCall<AgentMessage, SchedulerMessage> Connect(CallOptions? options = null) =>
        _channel.Duplex(AgentServiceRpc.Connect, options);
}
