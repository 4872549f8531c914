using System.Collections.Concurrent;
using Mekong.Api.V1;
using Mekong.Policy;
using Mekong.Scheduler.Agents;
using Mekong.Store;
using Mekong.Transport;
using JobState = Mekong.Store.JobState;
using NodeState = Mekong.Policy.NodeState;

namespace Mekong.Scheduler.Core;

internal sealed partial class SchedulerCore
{
    /// <summary>Connected agents by node. Written on the loop thread only; read by plan effects that run
    /// after a store commit.</summary>
    private readonly ConcurrentDictionary<string, AgentSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>An agent's session delivered its inventory: the node registers (or comes back), and the jobs it
    /// runs are reconciled with what the scheduler believes.</summary>
    public void AgentInventory(AgentSession session, Inventory inventory) => Post(() =>
    {
        var name = session.Node;
        if (session.Closed) return;
        var gpuType = inventory.Gpus.Select(g => g.GpuType).FirstOrDefault(t => !string.IsNullOrEmpty(t)) ?? "";
        var spec = new NodeSpec(name, gpuType, inventory.Gpus.Count, (int)inventory.CpuCores,
            (long)(inventory.MemoryBytes / (1024 * 1024)), inventory.TopologyBlock ?? "");
        var known = _nodes.TryGetValue(name, out var node);
        try
        {
            // Running jobs keep the node's shape; an agent reporting another shape under them is refused by the core.
            var wasDown = known && node!.State == NodeState.Down;
            var draining = known && node!.State == NodeState.Draining;
            _engine.NodeUp(spec);
            if (draining) _engine.NodeDrain(name);
            node ??= new NodeInfo(spec, NodeState.Up);
            node.Spec = spec;
            node.State = draining ? NodeState.Draining : NodeState.Up;
            _nodes[name] = node;
            if (!known || wasDown || node.Spec != spec) _ = _store.Writer.SetNodeAsync(spec, node.State);
        }
        catch (PolicyException e)
        {
            session.Close(new RpcException(StatusCode.FailedPrecondition, e.Message));
            return;
        }
        if (_sessions.TryGetValue(name, out var old) && old != session) old.Close(new RpcException(StatusCode.Aborted, "replaced by a newer session of the same node"));
        _sessions[name] = session;
        node.Session = session;
        node.AgentVersion = session.AgentVersion;
        node.LastSeen = Now;
        node.Reconciled = false;
        node.Adopted.Clear();
        foreach (var running in inventory.RunningJobs)
        {
            if (ProtoMapping.TryParseJobId(running.JobId, out var id) && _live.TryGetValue(id, out var live)
                && live.RanksRunning.Contains(name) && running.Attempt == live.Attempt)
                node.Adopted.Add(running.JobId);
            else
                session.Send(new SchedulerMessage { StopJob = new StopJob { JobId = running.JobId, Attempt = running.Attempt, Reason = StopReason.UnknownJob } });
        }
        PublishCatalog();
        Log.AgentConnected(_logger, name, spec.Gpus, spec.GpuType, spec.Block);
    });

    /// <summary>A heartbeat. The first one of a session comes after any reports the agent replays on
    /// reconnect, so a job the scheduler placed here that the agent neither listed nor reported never
    /// reached it: it is started again.</summary>
    public void AgentHeartbeat(AgentSession session) => Post(() =>
    {
        if (!_nodes.TryGetValue(session.Node, out var node) || node.Session != session) return;
        node.LastSeen = Now;
        if (node.Reconciled) return;
        node.Reconciled = true;
        foreach (var live in _live.Values)
        {
            if (live.State != JobState.Running || !live.RanksRunning.Contains(session.Node) || node.Adopted.Contains(ProtoMapping.JobIdText(live.Id))) continue;
            foreach (var (target, command) in StartCommands(live))
                if (target == session.Node) session.Send(new SchedulerMessage { StartJob = command });
        }
    });

    /// <summary>A job's process changed state on the agent's node.</summary>
    public void AgentReport(AgentSession session, JobStateChange change) => Post(() =>
    {
        if (_nodes.TryGetValue(session.Node, out var node)) node.LastSeen = Now;
        var known = ProtoMapping.TryParseJobId(change.JobId, out var id) && _live.TryGetValue(id, out var live) ? live : null;
        if (known is null || change.Attempt != known.Attempt || !known.RanksRunning.Contains(session.Node))
        {
            // Not ours (any more): make sure nothing of it keeps running.
            if (change.State is Mekong.Api.V1.AgentJobState.Running or Mekong.Api.V1.AgentJobState.Starting)
                session.Send(new SchedulerMessage { StopJob = new StopJob { JobId = change.JobId, Attempt = change.Attempt, Reason = StopReason.UnknownJob } });
            return;
        }
        if (change.State is Mekong.Api.V1.AgentJobState.Exited or Mekong.Api.V1.AgentJobState.FailedToStart or Mekong.Api.V1.AgentJobState.Stopped or Mekong.Api.V1.AgentJobState.TimedOut)
            RankEnded(known, session.Node, change);
    });

    /// <summary>The session ended. The node stays up until its heartbeat timeout: a quick reconnect loses nothing.</summary>
    public void AgentDisconnected(AgentSession session) => Post(() =>
    {
        if (_sessions.TryGetValue(session.Node, out var current) && current == session) _sessions.TryRemove(session.Node, out _);
        if (_nodes.TryGetValue(session.Node, out var node) && node.Session == session) node.Session = null;
        Log.AgentDisconnected(_logger, session.Node);
    });

    /// <summary>Nodes whose agent has been silent past the timeout are down; their jobs are requeued or failed.</summary>
    private void DownSilentNodes()
    {
        var now = Now;
        foreach (var node in _nodes.Values)
        {
            if (node.State == NodeState.Down || now - node.LastSeen < _options.HeartbeatTimeout) continue;
            node.Session?.Close(new RpcException(StatusCode.Unavailable, "heartbeat timeout"));
            node.Session = null;
            node.State = NodeState.Down;
            var lost = _engine.NodeDown(node.Spec.Name);
            _ = _store.Writer.SetNodeStateAsync(node.Spec.Name, NodeState.Down);
            Log.NodeDown(_logger, node.Spec.Name, (now - node.LastSeen).TotalSeconds, lost.Count);
            foreach (var l in lost)
            {
                if (!_live.TryGetValue(l.Job, out var live)) continue;
                // The gang's other ranks are stopped: the job restarts whole or not at all.
                live.RanksRunning.Remove(node.Spec.Name);
                SendStop(live, StopReason.GangFailed, TimeSpan.Zero);
                var reason = $"node {node.Spec.Name} lost";
                if (live.State == JobState.Cancelled) _live.Remove(l.Job);
                else if (l.Requeued) Requeue(live, now, reason);
                else
                {
                    var previous = live.State;
                    _live.Remove(l.Job);
                    live.State = JobState.Failed;
                    live.Reason = reason;
                    live.EndTime = now;
                    var stored = live.ToStored();
                    Record(JobTransition.Ended(l.Job, JobState.Failed, now, reason: reason), () => _events.Publish(JobEventType.StateChanged, stored, previous));
                }
            }
            PublishCatalog();
            _dirty = true;
        }
    }

    /// <summary>Nodes as the API shows them.</summary>
    public Task<IReadOnlyList<Mekong.Api.V1.Node>> ListNodesAsync() => InvokeAsync<IReadOnlyList<Mekong.Api.V1.Node>>(() =>
    {
        var free = _engine.Nodes().ToDictionary(n => n.Spec.Name, StringComparer.Ordinal);
        var jobsOn = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var live in _live.Values)
            foreach (var n in live.RanksRunning)
                (jobsOn.TryGetValue(n, out var l) ? l : jobsOn[n] = []).Add(ProtoMapping.JobIdText(live.Id));
        return _nodes.Values.OrderBy(n => n.Spec.Name, StringComparer.Ordinal)
            .Select(n => ProtoMapping.ToProto(n, free.TryGetValue(n.Spec.Name, out var v) ? n.Spec.Gpus - v.FreeGpus : 0,
                jobsOn.TryGetValue(n.Spec.Name, out var j) ? j : []))
            .ToArray();
    });

    /// <summary>Drains or resumes a node; completes when the change is committed.</summary>
    public Task<Mekong.Api.V1.Node> SetNodeStateAsync(string name, bool drain, string? reason)
    {
        var done = new TaskCompletionSource<Mekong.Api.V1.Node>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (!_nodes.TryGetValue(name, out var node))
            {
                done.SetException(new RpcException(StatusCode.NotFound, $"node {name} is not known"));
                return;
            }
            if (node.State == NodeState.Down)
            {
                done.SetException(new RpcException(StatusCode.FailedPrecondition, $"node {name} is down; it can be drained or resumed once its agent is back"));
                return;
            }
            node.State = drain ? NodeState.Draining : NodeState.Up;
            node.DrainReason = drain ? reason : null;
            if (drain) _engine.NodeDrain(name);
            else _engine.NodeResume(name);
            var view = ProtoMapping.ToProto(node, 0, []);
            _store.Writer.SetNodeStateAsync(name, node.State).ContinueWith(t =>
            {
                if (t.IsFaulted) done.SetException(t.Exception!.GetBaseException());
                else done.SetResult(view);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        });
        return done.Task;
    }

    /// <summary>Accounts with their live holdings, for the API.</summary>
    public Task<IReadOnlyList<AccountView>> AccountsAsync() => InvokeAsync(() => _engine.Accounts());

    /// <summary>Applies an account change to the core (which refuses a change that breaks the tree's rules),
    /// then commits it; completes after the commit.</summary>
    public async Task SetAccountAsync(AccountSpec spec)
    {
        await InvokeAsync(() =>
        {
            try
            {
                _engine.SetAccount(spec);
            }
            catch (PolicyException e)
            {
                throw new RpcException(StatusCode.FailedPrecondition, e.Message);
            }
            PublishCatalog();
            return true;
        }).ConfigureAwait(false);
        await _store.Writer.SetAccountAsync(spec).ConfigureAwait(false);
    }

    public async Task RemoveAccountAsync(string path)
    {
        await InvokeAsync(() =>
        {
            if (_live.Values.Any(j => Identity.Membership.Covers(path, j.Spec.Project)))
                throw new RpcException(StatusCode.FailedPrecondition, $"account {path} still has live jobs");
            try
            {
                _engine.RemoveAccount(path);
            }
            catch (PolicyException e)
            {
                throw new RpcException(StatusCode.FailedPrecondition, e.Message);
            }
            PublishCatalog();
            return true;
        }).ConfigureAwait(false);
        await _store.Writer.RemoveAccountAsync(path).ConfigureAwait(false);
    }
}
