using System.Threading.Channels;
using Mekong.Policy;
using Mekong.Store.Backends;
using Mekong.Store.Writing;

namespace Mekong.Store;

/// <summary>Group commit: every mutation from every caller goes through one queue to one writer thread, which
/// takes all that is waiting (up to <see cref="MaxBatch"/>), writes it in one transaction, commits (one
/// fsync on SQLite, one WAL flush on PostgreSQL), and only then completes each caller's task — durable
/// before acknowledged. There is no timer: while one batch commits the next one gathers, so a lone caller
/// waits for one commit and many callers share one.</summary>
/// <remarks>
/// Failure isolation: input is validated before it is queued, so nothing invalid reaches a batch. A
/// mutation refused by the database's state (a job not pending, an unknown node) is refused before it
/// writes and fails only its caller. If a statement still fails (a constraint, say), the batch is rolled
/// back and replayed with a savepoint around each mutation, so only the offender fails and the others
/// commit. Job ids come from the writer's counter, seeded from the table at open: monotonic in commit order.
/// </remarks>
public sealed class StoreWriter : IAsyncDisposable
{
    /// <summary>Most mutations in one transaction: bounds a commit's latency under overload.</summary>
    public const int MaxBatch = 2048;

    private readonly Channel<Mutation> _queue = Channel.CreateUnbounded<Mutation>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
    private readonly WriteSession _session;
    private readonly TimeProvider _time;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _idle = new(false, spinCount: 0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastJobId;
    private long _batches;
    private long _committed;
    private int _largestBatch;

    internal StoreWriter(SqlDialect dialect, long lastJobId, TimeProvider time)
    {
        _session = new WriteSession(dialect);
        _lastJobId = lastJobId;
        _time = time;
        _thread = new Thread(Run) { IsBackground = true, Name = "mekong-store-writer" };
        _thread.Start();
    }

    /// <summary>Transactions committed so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Mutations committed so far.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>The most mutations one transaction has carried.</summary>
    public int LargestBatch => Volatile.Read(ref _largestBatch);

    // ------------------------------------------------------------------ jobs

    /// <summary>Stores a new pending job and returns its spec with the store-assigned id. The id in
    /// <paramref name="spec"/> is ignored.</summary>
    public Task<JobSpec> SubmitAsync(JobSpec spec, JobCommand command)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(command);
        Validation.Submission(spec, command);
        return Enqueue(new SubmitJob(spec, command));
    }

    /// <summary>Records a job's change of state (start, end, preemption, hold, release, cancel).</summary>
    public Task TransitionAsync(JobTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        transition.Validate();
        return Enqueue(new TransitionJob(transition));
    }

    // ------------------------------------------------------------------ accounts, members, nodes, tokens

    public Task SetAccountAsync(AccountSpec account)
    {
        ArgumentNullException.ThrowIfNull(account);
        Validation.Account(account);
        return Enqueue(new SetAccount(account, _time.GetUtcNow()));
    }

    /// <summary>Removes an account that has no child accounts, with its members.</summary>
    public Task RemoveAccountAsync(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Enqueue(new RemoveAccount(path));
    }

    public Task SetMemberAsync(Member member)
    {
        ArgumentNullException.ThrowIfNull(member);
        Validation.Member(member);
        return Enqueue(new SetMember(member));
    }

    public Task RemoveMemberAsync(string account, string user)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(account);
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        return Enqueue(new RemoveMember(account, user));
    }

    /// <summary>Registers a node or updates its shape and state.</summary>
    public Task SetNodeAsync(NodeSpec node, NodeState state = NodeState.Up)
    {
        ArgumentNullException.ThrowIfNull(node);
        Validation.Node(node);
        return Enqueue(new SetNode(node, state, _time.GetUtcNow()));
    }

    public Task SetNodeStateAsync(string node, NodeState state)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(node);
        return Enqueue(new SetNodeState(node, state, _time.GetUtcNow()));
    }

    /// <summary>Issues an API token acting as <paramref name="subject"/>, expiring <paramref name="ttl"/> after
    /// now (null: never). The secret is in the result only: the store keeps its SHA-256.</summary>
    public Task<IssuedToken> IssueTokenAsync(string name, string subject, IReadOnlyList<string> roles, TimeSpan? ttl = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentNullException.ThrowIfNull(roles);
        if (ttl is { } t && t <= TimeSpan.Zero) throw new StoreException("a token's lifetime must be positive");
        var now = _time.GetUtcNow();
        var token = new ApiToken(TokenSecret.NewId(), name, subject, roles.ToArray(), now, null) { Expires = now + ttl };
        return Enqueue(new IssueToken(new IssuedToken(token, TokenSecret.NewSecret())));
    }

    public Task RevokeTokenAsync(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Enqueue(new RevokeToken(id, _time.GetUtcNow()));
    }

    // ------------------------------------------------------------------ the loop

    internal long NextJobId() => ++_lastJobId;

    internal Task<T> Enqueue<T>(Mutation<T> mutation)
    {
        if (!_queue.Writer.TryWrite(mutation)) throw new ObjectDisposedException(nameof(StoreWriter), "the store is closed");
        return mutation.Completion;
    }

    private bool WaitToRead(ChannelReader<Mutation> reader) => ChannelWait.WaitToRead(reader, _idle);

    private void Run()
    {
        var batch = new List<Mutation>(MaxBatch);
        var refused = new Exception?[MaxBatch];
        try
        {
            var reader = _queue.Reader;
            while (true)
            {
                if (!reader.TryRead(out var first))
                {
                    // Blocking here is the point: this thread does nothing but wait for work and commit it.
                    if (!WaitToRead(reader)) break;
                    continue;
                }
                batch.Add(first);
                while (batch.Count < MaxBatch && reader.TryRead(out var next)) batch.Add(next);
                Flush(batch, refused);
                batch.Clear();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Never expected: Flush fails callers, not the loop. Fail whatever is left rather than hang callers.
            foreach (var m in batch) m.Fail(e);
            while (_queue.Reader.TryRead(out var m)) m.Fail(e);
            _stopped.TrySetException(e);
            return;
        }
        _stopped.TrySetResult();
    }

    private void Flush(List<Mutation> batch, Exception?[] refused)
    {
        foreach (var m in batch) m.Assign(this);
        try
        {
            _session.Begin();
            for (var i = 0; i < batch.Count; i++)
            {
                try
                {
                    batch[i].Apply(_session);
                    refused[i] = null;
                }
                catch (StoreException e)
                {
                    refused[i] = e; // refused before writing anything: the transaction is untouched
                }
            }
            _session.Commit();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A statement or the commit failed: find the offender (if it is one) on the slow path.
            _session.Rollback();
            FlushIsolated(batch, refused);
        }
        Complete(batch, refused);
    }

    /// <summary>The slow path after a failed batch: the same mutations, each behind a savepoint, so a
    /// statement that fails rolls back only its own mutation.</summary>
    private void FlushIsolated(List<Mutation> batch, Exception?[] refused)
    {
        try
        {
            _session.Begin();
            for (var i = 0; i < batch.Count; i++)
            {
                _session.Savepoint("m");
                try
                {
                    batch[i].Apply(_session);
                    _session.FlushDeferred(); // its deferred statements must fail inside its own savepoint
                    refused[i] = null;
                    _session.ReleaseSavepoint("m");
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _session.RollbackToSavepoint("m");
                    _session.ReleaseSavepoint("m");
                    refused[i] = e as StoreException ?? new StoreException($"the store refused the change: {e.Message}", e);
                }
            }
            _session.Commit();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The database itself failed (connection lost, disk full): nothing of this batch is durable.
            _session.Rollback();
            var error = new StoreException($"the store could not commit: {e.Message}", e);
            for (var i = 0; i < batch.Count; i++) refused[i] = error;
        }
    }

    private void Complete(List<Mutation> batch, Exception?[] refused)
    {
        var committed = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (refused[i] is { } error)
            {
                batch[i].Fail(error);
                refused[i] = null;
            }
            else
            {
                batch[i].Succeed();
                committed++;
            }
        }
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _committed, committed);
        if (batch.Count > _largestBatch) Volatile.Write(ref _largestBatch, batch.Count);
    }

    /// <summary>Stops taking mutations, commits everything already queued, and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _stopped.Task.ConfigureAwait(false);
        }
        finally
        {
            _session.Dispose();
            _idle.Dispose();
        }
    }
}
