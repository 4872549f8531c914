using System.Collections.Frozen;
using System.Threading.Channels;
using Mekong.Policy;
using Mekong.Scheduler.Agents;
using Mekong.Scheduler.Events;
using Mekong.Store;
using Microsoft.Extensions.Logging;

namespace Mekong.Scheduler.Core;

/// <summary>
/// The one writer of the policy core. API calls and agent messages become work items on one queue; a
/// dedicated thread runs them in order, then makes one scheduling decision for everything that changed,
/// applies the plan (records starts in the store, then tells the agents) and publishes job events.
/// </summary>
/// <remarks>
/// Why one thread: the core is single-threaded by design (no locks inside); batching many submissions
/// into one <see cref="PolicyEngine.Decide"/> keeps the cost per event low under load. Durability is the
/// store's job: API handlers commit first and post to the loop after, so the loop never waits on disk;
/// state changes the loop decides are queued to the same group-committing writer in order, and their
/// effects (agent commands, events) follow their commit.
/// </remarks>
internal sealed partial class SchedulerCore : IAsyncDisposable
{
    private const int MaxItemsPerDecision = 4096;
    private readonly Channel<Action> _inbox = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PolicyEngine _engine;
    private readonly MekongStore _store;
    private readonly JobEventHub _events;
    private readonly Logs.JobLogStore _logs;
    private readonly SchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<JobId, LiveJob> _live = [];
    private readonly Dictionary<string, NodeInfo> _nodes = new(StringComparer.Ordinal);
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _idle = new(false, spinCount: 0);
    private readonly ITimer _ticker;
    private Catalog _catalog = Catalog.Empty;
    private long _decisions;
    private long _decisionTicks;
    private long _itemsRun;
    private bool _dirty;
    private DateTimeOffset _lastFullPass;

    public SchedulerCore(PolicyEngine engine, StoreSnapshot snapshot, MekongStore store, JobEventHub events, Logs.JobLogStore logs,
        SchedulerOptions options, TimeProvider time, ILogger logger)
    {
        _engine = engine;
        _logs = logs;
        _store = store;
        _events = events;
        _options = options;
        _time = time;
        _logger = logger;
        var now = time.GetUtcNow();
        foreach (var job in snapshot.Jobs)
        {
            var live = LiveJob.From(job);
            if (job.State == JobState.Running)
            {
                live.RanksRunning.UnionWith(job.Allocations.Select(a => a.Node));
                logs.Started(job.Id, live.Attempt, job.Allocations.Select(a => a.Node).ToArray());
            }
            _live[job.Id] = live;
        }
        // Restored nodes count as seen now: their agents have one heartbeat timeout to reconnect.
        foreach (var node in snapshot.Nodes) _nodes[node.Spec.Name] = new NodeInfo(node.Spec, node.State) { LastSeen = now };
        PublishCatalog();
        _dirty = true;
        _thread = new Thread(Run) { IsBackground = true, Name = "mekong-scheduler" };
        _thread.Start();
        _ticker = time.CreateTimer(_ => Post(Tick), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Decisions made, the time they took, and work items run, since start (for metrics and benchmarks).</summary>
    public (long Decisions, TimeSpan DecisionTime, long Items) Statistics =>
        (Interlocked.Read(ref _decisions), TimeSpan.FromTicks(Interlocked.Read(ref _decisionTicks)), Interlocked.Read(ref _itemsRun));

    /// <summary>What validation needs, as of the last change.</summary>
    public Catalog Catalog => Volatile.Read(ref _catalog);

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Runs <paramref name="work"/> on the loop; the loop decides after it.</summary>
    public void Post(Action work)
    {
        if (!_inbox.Writer.TryWrite(work)) throw new Transport.RpcException(Transport.StatusCode.Unavailable, "the scheduler is shutting down");
    }

    /// <summary>Runs <paramref name="work"/> on the loop and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    private void Run()
    {
        var reader = _inbox.Reader;
        while (true)
        {
            var ran = 0;
            while (ran < MaxItemsPerDecision && reader.TryRead(out var work))
            {
                ran++;
                try
                {
                    work();
                }
                catch (Exception e)
                {
                    Log.LoopFailed(_logger, e);
                }
            }
            if (ran > 0)
            {
                _dirty = true;
                Interlocked.Add(ref _itemsRun, ran);
            }
            if (_dirty)
            {
                _dirty = false;
                try
                {
                    Decide();
                }
                catch (Exception e)
                {
                    Log.LoopFailed(_logger, e);
                }
                continue;
            }
            if (!WaitToRead(reader)) return;
        }
    }

    private bool WaitToRead(ChannelReader<Action> reader) => ChannelWait.WaitToRead(reader, _idle);

    /// <summary>One decision over everything that changed; a full pass (which explains every pending job)
    /// at the configured interval.</summary>
    private void Decide()
    {
        var now = Now;
        var full = now - _lastFullPass >= _options.FullPassInterval;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var plan = full ? _engine.Schedule() : _engine.Decide();
        Interlocked.Add(ref _decisionTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
        Interlocked.Increment(ref _decisions);
        if (full) _lastFullPass = now;
        ApplyPlan(plan);
    }

    private void Tick()
    {
        DownSilentNodes();
        // Time moved: estimated starts, budgets and reservations may have changed.
        if (Now - _lastFullPass >= _options.FullPassInterval) _dirty = true;
    }

    /// <summary>Rebuilds the validation catalog from the core's accounts and the known nodes.</summary>
    private void PublishCatalog()
    {
        var accounts = _engine.Accounts().Where(a => a.Path.Length > 0).ToArray();
        var parents = accounts.Select(a => a.Spec?.ParentPath ?? "").ToHashSet(StringComparer.Ordinal);
        var quotaTypes = accounts.SelectMany(a => (a.Spec?.Guarantee.Keys ?? []).Concat(a.Spec?.Limit.Keys ?? [])).ToFrozenSet(StringComparer.Ordinal);
        Volatile.Write(ref _catalog, new Catalog(
            accounts.ToFrozenDictionary(a => a.Path, a => !parents.Contains(a.Path), StringComparer.Ordinal),
            _nodes.Values.GroupBy(n => n.Spec.GpuType).ToFrozenDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            _nodes.Values.GroupBy(n => n.Spec.GpuType).ToFrozenDictionary(g => g.Key, g => g.Max(n => n.Spec.Gpus), StringComparer.Ordinal),
            quotaTypes));
    }

    /// <summary>Queues a state change to the store; <paramref name="then"/> runs once it is committed.</summary>
    private void Record(JobTransition transition, Action? then = null) =>
        _store.Writer.TransitionAsync(transition).ContinueWith(t =>
        {
            if (t.IsFaulted) Log.RecordFailed(_logger, transition.Job.Value, t.Exception!.GetBaseException());
            else then?.Invoke();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    public async ValueTask DisposeAsync()
    {
        await _ticker.DisposeAsync().ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        await Task.Run(() => _thread.Join()).ConfigureAwait(false);
        _idle.Dispose();
    }
}
