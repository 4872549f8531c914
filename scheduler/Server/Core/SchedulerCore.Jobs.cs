using Mekong.Api.V1;
using Mekong.Policy;
using Mekong.Scheduler.Agents;
using Mekong.Store;
using Mekong.Transport;
using JobState = Mekong.Store.JobState;

namespace Mekong.Scheduler.Core;

internal sealed partial class SchedulerCore
{
    /// <summary>A committed submission joins the core's queue. Called after the store has the job.</summary>
    public void Submitted(Policy.JobSpec spec, JobCommand command) => Post(() =>
    {
        var live = new LiveJob(spec, command, JobState.Pending) { Attempt = 1 };
        try
        {
            _engine.Submit(spec);
        }
        catch (PolicyException e)
        {
            // The project went away between validation and here: the job cannot run; say so durably.
            live.State = JobState.Cancelled;
            live.Reason = e.Message;
            Record(JobTransition.Ended(spec.Id, JobState.Cancelled, Now, reason: e.Message), () => _events.Publish(JobEventType.StateChanged, live.ToStored(), JobState.Pending));
            return;
        }
        _live[spec.Id] = live;
        _events.Publish(JobEventType.Submitted, live.ToStored(), null);
    });

    /// <summary>The live job with its explanation and usage, or null when the job is no longer in the scheduler's hands.</summary>
    public Task<LiveJobView?> GetLiveAsync(JobId id) => InvokeAsync(() =>
        _live.TryGetValue(id, out var live) ? new LiveJobView(live.ToStored(), _engine.Explain(id), ProtoMapping.Usage(live.Usage.Values), live.Attempt) : null);

    /// <summary>Records the agents' latest usage samples of running jobs.</summary>
    public void AgentUsage(AgentSession session, UsageReport report) => Post(() =>
    {
        foreach (var sample in report.Samples)
            if (ProtoMapping.TryParseJobId(sample.JobId, out var id) && _live.TryGetValue(id, out var live)
                && live.Attempt == sample.Attempt && live.RanksRunning.Contains(session.Node))
                live.Usage[session.Node] = sample;
    });

    /// <summary>Explanations of the given pending jobs (missing ones are not pending).</summary>
    public Task<Dictionary<JobId, PendingExplanation>> ExplainAsync(IReadOnlyList<JobId> ids) => InvokeAsync(() =>
    {
        var result = new Dictionary<JobId, PendingExplanation>();
        foreach (var id in ids)
            if (_engine.Explain(id) is { } e) result[id] = e;
        return result;
    });

    /// <summary>Cancels a live job; the task completes when the cancellation is committed. A running job is
    /// signalled (SIGTERM, grace, SIGKILL); its GPUs stay taken until its agent reports the exit.</summary>
    public Task<StoredJob> CancelAsync(JobId id, string by, string? reason)
    {
        var committed = new TaskCompletionSource<StoredJob>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (!_live.TryGetValue(id, out var live) || live.State == JobState.Cancelled)
            {
                committed.SetException(new RpcException(StatusCode.FailedPrecondition, $"job {id} has already ended"));
                return;
            }
            var previous = live.State;
            var outcome = _engine.Cancel(id);
            if (outcome == CancelOutcome.NotFound)
            {
                committed.SetException(new RpcException(StatusCode.FailedPrecondition, $"job {id} has already ended"));
                return;
            }
            // The note is for people; who cancelled is kept apart (CancelledBy), never read back from it.
            var note = string.IsNullOrWhiteSpace(reason) ? $"cancelled by {by}" : $"cancelled by {by}: {reason}";
            live.State = JobState.Cancelled;
            live.Reason = note;
            live.CancelledBy = by;
            live.EndTime = Now;
            if (outcome == CancelOutcome.Removed) _live.Remove(id);
            else
            {
                live.Stop = StopIntent.Cancel;
                SendStop(live, StopReason.Cancelled, live.Spec.GracePeriod);
            }
            var stored = live.ToStored();
            _store.Writer.TransitionAsync(JobTransition.Cancelled(id, live.EndTime.Value, by, note)).ContinueWith(t =>
            {
                if (t.IsFaulted) committed.SetException(t.Exception!.GetBaseException());
                else
                {
                    committed.SetResult(stored);
                    _events.Publish(JobEventType.StateChanged, stored, previous);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        });
        return committed.Task;
    }

    /// <summary>Enacts a decision: records each start, then tells the start's agents; tells victims' agents to stop.</summary>
    private void ApplyPlan(SchedulingPlan plan)
    {
        foreach (var start in plan.Starts)
        {
            if (!_live.TryGetValue(start.Job, out var live)) continue;
            var previous = live.State;
            live.State = JobState.Running;
            live.StartTime = plan.Time;
            live.Allocations = start.Allocations;
            live.GpuType = start.GpuType;
            live.Borrowing = start.Borrowing;
            live.Attempt = Math.Max(live.Attempt, (uint)live.Spec.PreemptionCount + 1);
            live.Stop = StopIntent.None;
            live.Failed = live.TimedOut = false;
            live.RanksRunning.Clear();
            live.RanksRunning.UnionWith(start.Allocations.Select(a => a.Node));
            live.Usage.Clear();
            _logs.Started(live.Id, live.Attempt, start.Allocations.Select(a => a.Node).ToArray());
            var commands = StartCommands(live);
            var stored = live.ToStored();
            Record(JobTransition.Started(start.Job, plan.Time, start.Allocations, start.GpuType, start.Borrowing), () =>
            {
                foreach (var (node, command) in commands) SendToNode(node, new SchedulerMessage { StartJob = command });
                _events.Publish(JobEventType.StateChanged, stored, previous);
            });
        }
        foreach (var preemption in plan.Preemptions)
        {
            if (!_live.TryGetValue(preemption.Victim, out var victim)) continue;
            victim.Stop = StopIntent.Preempt;
            SendStop(victim, StopReason.Preempted, preemption.GracePeriod);
        }
    }

    /// <summary>One StartJob per node of the job, with the gang's rank variables for multi-node jobs.</summary>
    private static List<(string Node, StartJob Command)> StartCommands(LiveJob live)
    {
        var list = new List<(string, StartJob)>(live.Allocations.Count);
        var names = live.Allocations.Select(a => a.Node).ToArray();
        for (var rank = 0; rank < live.Allocations.Count; rank++)
        {
            var a = live.Allocations[rank];
            var start = new StartJob
            {
                JobId = ProtoMapping.JobIdText(live.Id),
                Attempt = live.Attempt,
                User = live.Spec.User,
                WorkingDir = live.Command.WorkingDirectory ?? "",
                ContainerImage = live.Command.Image ?? "",
                CpuCores = (uint)live.Spec.CpuPerNode,
                MemoryBytes = (ulong)live.Spec.MemoryMbPerNode * 1024 * 1024,
                Walltime = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(live.Spec.Walltime),
                GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(live.Spec.GracePeriod),
            };
            start.Command.AddRange(live.Command.Argv);
            foreach (var (k, v) in live.Command.Env) start.Env[k] = v;
            start.GpuIndices.AddRange(a.GpuIndices.Select(i => (uint)i));
            if (live.Spec.IsGang)
            {
                start.Gang = new GangRank
                {
                    Rank = (uint)rank,
                    Size = (uint)names.Length,
                    MasterAddr = names[0],
                    // A port per job so two gangs sharing a first node do not collide.
                    MasterPort = (uint)(29500 + (live.Id.Value % 2000)),
                };
                start.Gang.NodeNames.AddRange(names);
            }
            list.Add((a.Node, start));
        }
        return list;
    }

    private void SendStop(LiveJob live, StopReason reason, TimeSpan grace)
    {
        foreach (var node in live.RanksRunning)
            SendToNode(node, new SchedulerMessage
            {
                StopJob = new StopJob
                {
                    JobId = ProtoMapping.JobIdText(live.Id),
                    Attempt = live.Attempt,
                    Reason = reason,
                    GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(grace),
                },
            });
    }

    private void SendToNode(string node, SchedulerMessage message)
    {
        // Read under no lock: sessions are swapped on the loop thread, and a send to a session that has
        // just closed is dropped — the reconnect's inventory reconciles it.
        if (_sessions.TryGetValue(node, out var session)) session.Send(message);
    }

    /// <summary>One rank of a job ended on <paramref name="node"/> (agent report). When every rank has ended the
    /// job is finished in the core and its outcome recorded.</summary>
    private void RankEnded(LiveJob live, string node, JobStateChange change)
    {
        if (!live.RanksRunning.Remove(node)) return; // a duplicate report, or one from before a restart
        var rank0 = live.Allocations.Count > 0 && live.Allocations[0].Node == node;
        if (rank0 || live.ExitCode is null) live.ExitCode = change.ExitCode;
        switch (change.State)
        {
            case Mekong.Api.V1.AgentJobState.Exited when change.ExitCode == 0:
                break;
            case Mekong.Api.V1.AgentJobState.TimedOut:
                live.TimedOut = true;
                live.Failed = true;
                live.Reason = "walltime reached";
                break;
            case Mekong.Api.V1.AgentJobState.FailedToStart:
                live.Failed = true;
                live.Reason = $"failed to start on {node}: {change.Message}";
                break;
            default:
                live.Failed = true;
                live.Reason = string.IsNullOrEmpty(change.Message) ? $"rank on {node} ended with {Describe(change)}" : $"{change.Message} on {node}";
                break;
        }
        if (live.Failed && live.Stop == StopIntent.None && live.RanksRunning.Count > 0)
        {
            live.Stop = StopIntent.GangFailed;
            SendStop(live, StopReason.GangFailed, TimeSpan.FromSeconds(10));
        }
        if (live.RanksRunning.Count == 0) Finished(live);
    }

    private static string Describe(JobStateChange change) =>
        change.Signal != 0 ? $"signal {change.Signal}" : $"exit code {change.ExitCode}";

    /// <summary>Every rank has ended: frees the GPUs in the core and records the outcome.</summary>
    private void Finished(LiveJob live)
    {
        var previous = live.State;
        var outcome = _engine.Finish(live.Id);
        var now = Now;
        _logs.Ended(live.Id, live.Attempt);
        if (previous == JobState.Cancelled)
        {
            _live.Remove(live.Id);
            return; // recorded when it was cancelled
        }
        if (outcome == FinishOutcome.Requeued)
        {
            Requeue(live, now, "preempted for a guaranteed job");
            return;
        }
        _live.Remove(live.Id);
        live.EndTime = now;
        live.State = live.TimedOut ? JobState.TimedOut : live.Failed || live.ExitCode is not 0 ? JobState.Failed : JobState.Succeeded;
        if (live.State == JobState.Succeeded) live.Reason = null;
        var stored = live.ToStored();
        Record(JobTransition.Ended(live.Id, live.State, now, live.ExitCode, live.Reason), () => _events.Publish(JobEventType.StateChanged, stored, previous));
    }

    /// <summary>A running job goes back to the queue with its original submit time (preempted, or its node lost).</summary>
    private void Requeue(LiveJob live, DateTimeOffset now, string reason)
    {
        var previous = live.State;
        _logs.Ended(live.Id, live.Attempt);
        live.State = JobState.Preempted;
        live.Reason = reason;
        live.EndTime = now;
        live.Allocations = [];
        live.RanksRunning.Clear();
        live.Stop = StopIntent.None;
        live.Spec = live.Spec with { PreemptionCount = live.Spec.PreemptionCount + 1 };
        live.Attempt++;
        var stored = live.ToStored();
        Record(JobTransition.Preempted(live.Id, now, reason), () => _events.Publish(JobEventType.StateChanged, stored, previous));
    }
}
