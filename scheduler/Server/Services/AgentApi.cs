using Mekong.Api.V1;
using Mekong.Scheduler.Agents;
using Mekong.Scheduler.Core;
using Mekong.Transport;

namespace Mekong.Scheduler.Services;

/// <summary>mekong.v1.AgentService.Connect: one long-lived stream per node. The agent says Hello, gets its
/// Welcome, sends its inventory; from then on heartbeats and job reports flow in while start and stop
/// commands flow out of the session's outbox.</summary>
internal sealed class AgentApi(SchedulerCore core, Identity.Authenticator auth, Logs.JobLogStore logs, SchedulerOptions options,
    Microsoft.Extensions.Logging.ILogger logger, CancellationToken stopping)
{
    private static readonly System.Text.RegularExpressions.Regex NodeName = new("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public RpcServiceDefinition Definition() => RpcServiceDefinition.For(AgentServiceRpc.Descriptor)
        .Duplex(AgentServiceRpc.Connect, ConnectAsync)
        .Build();

    private async Task ConnectAsync(IAsyncStreamReader<AgentMessage> requests, IServerStreamWriter<SchedulerMessage> responses, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        if (!caller.IsAgent && !caller.IsAdmin) throw new RpcException(StatusCode.PermissionDenied, "the agent channel needs an agent credential");
        var cancel = context.CancellationToken;
        if (!await requests.MoveNext(cancel).ConfigureAwait(false)) return;
        var hello = requests.Current.Hello ?? throw new RpcException(StatusCode.FailedPrecondition, "the first message of a session must be Hello");
        if (!NodeName.IsMatch(hello.NodeName)) throw SubmitValidator.Invalid("hello.node_name", $"'{hello.NodeName}' is not a node name (letters, digits, '.', '_', '-'; at most 63)");
        using var session = new AgentSession(hello.NodeName, hello.AgentVersion);
        // A stopping server ends the sessions itself: Kestrel would otherwise wait its whole shutdown timeout
        // for these endless streams. The agents reconnect to the next scheduler; their jobs keep running.
        using var onStop = stopping.Register(() => session.Close(new RpcException(StatusCode.Unavailable, "the scheduler is stopping")));
        session.Send(new SchedulerMessage
        {
            Welcome = new Welcome
            {
                SessionId = $"{hello.NodeName}-{Guid.NewGuid():N}",
                HeartbeatInterval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(options.HeartbeatInterval),
                UsageInterval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(options.UsageInterval),
            },
        });
        var writer = WriteAsync(session, responses, cancel);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancel, session.Closing);
        try
        {
            while (await requests.MoveNext(reading.Token).ConfigureAwait(false))
            {
                var m = requests.Current;
                switch (m.BodyCase)
                {
                    case AgentMessage.BodyOneofCase.Inventory:
                        if (m.Inventory.Gpus.Count is 0 or > Policy.NodeSpec.MaxGpusPerNode)
                            throw SubmitValidator.Invalid("inventory.gpus", $"a node has 1..{Policy.NodeSpec.MaxGpusPerNode} GPUs");
                        core.AgentInventory(session, m.Inventory);
                        break;
                    case AgentMessage.BodyOneofCase.Heartbeat:
                        core.AgentHeartbeat(session);
                        break;
                    case AgentMessage.BodyOneofCase.JobState:
                        core.AgentReport(session, m.JobState);
                        break;
                    case AgentMessage.BodyOneofCase.Usage:
                        core.AgentUsage(session, m.Usage);
                        break;
                    case AgentMessage.BodyOneofCase.Log:
                        if (m.Log.Data.Length > 64 * 1024) throw SubmitValidator.Invalid("log.data", "a chunk carries at most 64 KiB");
                        // Written here, not on the loop: output is bulk, and the store of it is thread-safe.
                        if (ProtoMapping.TryParseJobId(m.Log.JobId, out var logJob))
                            logs.Append(logJob, m.Log.Attempt, session.Node, m.Log.Stream == LogStream.Stderr, m.Log.Offset, m.Log.Data.Span);
                        break;
                    case AgentMessage.BodyOneofCase.Ack when !m.Ack.Accepted:
                        // The job's state report follows; the refusal's reason is for the operator.
                        Log.CommandRefused(logger, session.Node, m.Ack.Sequence, m.Ack.Message);
                        break;
                    default:
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (session.Closed && !cancel.IsCancellationRequested)
        {
            // The scheduler ended the session (replaced, heartbeat timeout, refused inventory): its status follows.
        }
        finally
        {
            core.AgentDisconnected(session);
            session.Close(new RpcException(StatusCode.OK, ""));
            await writer.ConfigureAwait(false);
        }
        if (session.ClosedWith is { StatusCode: not StatusCode.OK } closed) throw closed;
    }

    private static async Task WriteAsync(AgentSession session, IServerStreamWriter<SchedulerMessage> responses, CancellationToken cancel)
    {
        try
        {
            await foreach (var message in session.Outbox.ReadAllAsync(cancel).ConfigureAwait(false))
                await responses.WriteAsync(message, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
