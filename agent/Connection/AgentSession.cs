using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;
using Microsoft.Extensions.Logging;

namespace Mekong.Agent.Connection;

/// <summary>
/// One session on the AgentService.Connect stream: Hello, Inventory, wait for Welcome, then one writer
/// (the only one, so sequence numbers stay in order) sends acknowledgements, the outbox's state changes
/// (a job's remaining output first, then its end), output of running jobs, heartbeats and usage; one
/// reader executes StartJob and StopJob. The session ends when either side fails; the caller reconnects.
/// </summary>
internal sealed partial class AgentSession
{
    private readonly NodeAgent _agent;
    private readonly DuplexStreamingCall<AgentMessage, SchedulerMessage> _call;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<CommandAck> _acks = new();
    private readonly TaskCompletionSource<Welcome> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _sequence;

    public AgentSession(NodeAgent agent, DuplexStreamingCall<AgentMessage, SchedulerMessage> call, ILogger logger)
    {
        _agent = agent;
        _call = call;
        _logger = logger;
    }

    /// <summary>Whether the scheduler welcomed this session.</summary>
    public bool Welcomed => _welcome.Task.IsCompletedSuccessfully;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = _agent.Options;
        var time = _agent.Time;
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = sessionCts.Token;

        await SendAsync(new AgentMessage
        {
            Hello = new Hello
            {
                NodeName = options.NodeName,
                AgentVersion = NodeAgent.Version,
                AgentStartTime = Timestamp.FromDateTimeOffset(_agent.StartTime),
            },
        }, token).ConfigureAwait(false);
        await SendAsync(new AgentMessage { Inventory = _agent.CurrentInventory() }, token).ConfigureAwait(false);

        var reader = ReadAsync(token);
        // When the reader ends (the stream broke or the scheduler closed it), the writer stops too.
        _ = reader.ContinueWith(_ => sessionCts.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var welcome = await _welcome.Task.WaitAsync(options.WelcomeTimeout, time, token).ConfigureAwait(false);
            var heartbeat = Positive(welcome.HeartbeatInterval, options.HeartbeatInterval);
            var usage = Positive(welcome.UsageInterval, options.UsageInterval);
            Log.Welcomed(_logger, options.NodeName, welcome.SessionId, heartbeat, usage);
            _agent.OnWelcomed();
            await WriteLoopAsync(heartbeat, usage, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && reader.IsCompleted)
        {
            // The reader ended the session; its exception (if any) is the cause.
        }
        catch
        {
            // The writer failed first: the reader fails too once the call is disposed; observe it.
            await sessionCts.CancelAsync().ConfigureAwait(false);
            _ = reader.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }

        await reader.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync(TimeSpan heartbeatInterval, TimeSpan usageInterval, CancellationToken token)
    {
        var time = _agent.Time;
        var nextHeartbeat = time.GetUtcNow();
        var nextUsage = time.GetUtcNow() + usageInterval;
        var hasLogs = !_agent.Options.SimulateExecution;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            while (_acks.TryDequeue(out var ack))
            {
                await SendAsync(new AgentMessage { Ack = ack }, token).ConfigureAwait(false);
            }

            await SendStateChangesAsync(token).ConfigureAwait(false);
            _agent.Logs.Checkpoint();
            ForgetSafelyEnded();
            if (hasLogs)
            {
                foreach (var job in _agent.Jobs.Jobs())
                {
                    if (!job.IsFinished)
                    {
                        await SendLogsAsync(job, token).ConfigureAwait(false);
                    }
                }
            }

            var now = time.GetUtcNow();
            if (now >= nextHeartbeat)
            {
                var heartbeat = new Heartbeat { Time = Timestamp.FromDateTimeOffset(now) };
                heartbeat.RunningJobIds.AddRange(_agent.Jobs.Running().Select(j => j.JobId));
                await SendAsync(new AgentMessage { Heartbeat = heartbeat }, token).ConfigureAwait(false);
                nextHeartbeat = now + heartbeatInterval;
            }

            if (now >= nextUsage)
            {
                var report = _agent.Usage.Sample(_agent.Jobs.Jobs());
                if (report.Samples.Count > 0)
                {
                    await SendAsync(new AgentMessage { Usage = report }, token).ConfigureAwait(false);
                }

                nextUsage = now + usageInterval;
            }

            var wait = Min(nextHeartbeat, nextUsage) - time.GetUtcNow();
            if (hasLogs && _agent.Jobs.Running().Count > 0 && wait > _agent.Options.LogPollInterval)
            {
                wait = _agent.Options.LogPollInterval;
            }

            await _agent.Outbox.WaitAsync(wait, token).ConfigureAwait(false);
        }
    }

    private async Task SendStateChangesAsync(CancellationToken token)
    {
        var outbox = _agent.Outbox;
        while (outbox.TryPeek(out var change))
        {
            var terminal = change.State is not (AgentJobState.Starting or AgentJobState.Running);
            var job = terminal ? _agent.Jobs.Find(change.JobId, change.Attempt) : null;
            if (job is not null)
            {
                // All of a job's output goes before its end.
                await SendLogsAsync(job, token).ConfigureAwait(false);
            }

            await SendAsync(new AgentMessage { JobState = change }, token).ConfigureAwait(false);
            outbox.TryDequeue(out _);
            if (terminal)
            {
                // Kept a while: should this session break, the end and the job's output go out again.
                outbox.SentEnd(change);
                _ended.Enqueue((change.JobId, change.Attempt, _agent.Time.GetUtcNow()));
            }
        }
    }

    private readonly Queue<(string JobId, uint Attempt, DateTimeOffset SentAt)> _ended = new();

    /// <summary>Lets go of jobs whose end went out long enough ago to be past risk (<see cref="Logs.LogForwarder.AtRisk"/>).</summary>
    private void ForgetSafelyEnded()
    {
        var now = _agent.Time.GetUtcNow();
        while (_ended.TryPeek(out var e) && now - e.SentAt >= Logs.LogForwarder.AtRisk)
        {
            _ended.Dequeue();
            _agent.Jobs.Forget(e.JobId, e.Attempt);
            _agent.Logs.Forget(e.JobId, e.Attempt);
        }
    }

    private async Task SendLogsAsync(Execution.JobInstance job, CancellationToken token)
    {
        while (_agent.Logs.Next(job) is { } chunk)
        {
            await SendAsync(new AgentMessage { Log = chunk }, token).ConfigureAwait(false);
            _agent.Logs.Sent(chunk);
        }
    }

    private async Task ReadAsync(CancellationToken token)
    {
        // Let the writer run first; then read until the stream ends.
        await Task.Yield();
        while (await _call.ResponseStream.MoveNext(token).ConfigureAwait(false))
        {
            var message = _call.ResponseStream.Current;
            switch (message.BodyCase)
            {
                case SchedulerMessage.BodyOneofCase.Welcome:
                    _welcome.TrySetResult(message.Welcome);
                    break;
                case SchedulerMessage.BodyOneofCase.StartJob:
                    Acknowledge(message.Sequence, _agent.Jobs.Start(message.StartJob));
                    break;
                case SchedulerMessage.BodyOneofCase.StopJob:
                    Acknowledge(message.Sequence, _agent.Jobs.Stop(message.StopJob));
                    break;
                default:
                    Log.UnknownMessage(_logger, message.BodyCase.ToString());
                    break;
            }
        }

        Log.StreamEnded(_logger, _agent.Options.NodeName);
    }

    private void Acknowledge(ulong sequence, Execution.CommandResult result)
    {
        _acks.Enqueue(new CommandAck { Sequence = sequence, Accepted = result.Accepted, Message = result.Message });
        _agent.Outbox.Wake();
    }

    private Task SendAsync(AgentMessage message, CancellationToken token)
    {
        message.Sequence = ++_sequence;
        return _call.RequestStream.WriteAsync(message, token);
    }

    private static TimeSpan Positive(Duration? value, TimeSpan fallback) =>
        value is not null && value.ToTimeSpan() > TimeSpan.Zero ? value.ToTimeSpan() : fallback;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node}: session {SessionId} welcomed (heartbeat {Heartbeat}, usage {Usage})")]
        public static partial void Welcomed(ILogger logger, string node, string sessionId, TimeSpan heartbeat, TimeSpan usage);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring a scheduler message of unknown kind {Kind}")]
        public static partial void UnknownMessage(ILogger logger, string kind);

        [LoggerMessage(Level = LogLevel.Information, Message = "Node {Node}: the scheduler ended the session")]
        public static partial void StreamEnded(ILogger logger, string node);
    }
}
