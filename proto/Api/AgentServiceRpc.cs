using Google.Protobuf.Reflection;
using Mekong.Transport;

namespace Mekong.Api.V1;

/// <summary>The methods of mekong.v1.AgentService, for registering handlers and making calls.</summary>
public static class AgentServiceRpc
{
    /// <summary>The service's descriptor from agent.proto.</summary>
    public static readonly ServiceDescriptor Descriptor = AgentReflection.Descriptor.FindTypeByName<ServiceDescriptor>("AgentService");

    /// <summary>AgentService.Connect.</summary>
    public static readonly Method<AgentMessage, SchedulerMessage> Connect = new(Descriptor, nameof(Connect));
}
