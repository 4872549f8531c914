using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Proto.Tests.Demo;

/// <summary>A scheduler side of the agent stream that answers as it reads: proves full duplex.</summary>
internal static class DemoAgentService
{
    public static RpcServiceDefinition Definition() => RpcServiceDefinition.For(AgentServiceRpc.Descriptor)
        .Duplex(AgentServiceRpc.Connect, ConnectAsync)
        .Build();

    private static async Task ConnectAsync(IAsyncStreamReader<AgentMessage> requests, IServerStreamWriter<SchedulerMessage> responses, CallContext context)
    {
        ulong sequence = 0;
        await foreach (var message in requests.ReadAllAsync(context.CancellationToken))
        {
            switch (message.BodyCase)
            {
                case AgentMessage.BodyOneofCase.Hello:
                    await responses.WriteAsync(new SchedulerMessage
                    {
                        Sequence = ++sequence,
                        Welcome = new Welcome { SessionId = "s-" + message.Hello.NodeName, HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) },
                    });
                    break;
                case AgentMessage.BodyOneofCase.Inventory:
                    // Start one job on the first GPU of the inventory.
                    await responses.WriteAsync(new SchedulerMessage
                    {
                        Sequence = ++sequence,
                        StartJob = new StartJob { JobId = "j-000001", Attempt = 1, Command = { "/bin/true" }, GpuIndices = { message.Inventory.Gpus[0].Index } },
                    });
                    break;
                case AgentMessage.BodyOneofCase.JobState when message.JobState.State == AgentJobState.Exited:
                    await responses.WriteAsync(new SchedulerMessage
                    {
                        Sequence = ++sequence,
                        StopJob = new StopJob { JobId = message.JobState.JobId, Reason = StopReason.UnknownJob },
                    });
                    break;
                default:
                    break;
            }
        }
    }
}
