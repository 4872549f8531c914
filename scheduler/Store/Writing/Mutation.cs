namespace Mekong.Store.Writing;

/// <summary>One caller's change, queued to the <see cref="StoreWriter"/>. Its input was validated before it
/// was queued; <see cref="Apply"/> may still refuse it (a job in the wrong state, an unknown node) by
/// throwing <see cref="StoreException"/> before it writes anything, which fails only this caller.
/// The caller's task completes only after the batch holding the change has committed.</summary>
internal abstract class Mutation
{
    /// <summary>Runs once, on the writer thread, when the mutation is taken from the queue (before any
    /// attempt): assigns store ids, so a retried batch reuses them.</summary>
    public virtual void Assign(StoreWriter writer) { }

    /// <summary>Writes the change inside the writer's current transaction. May run twice (fast path, then
    /// the isolated retry), so it keeps no state besides its result.</summary>
    public abstract void Apply(WriteSession session);

    public abstract void Succeed();

    public abstract void Fail(Exception error);
}

/// <summary>A mutation whose caller awaits a result of type <typeparamref name="T"/>.</summary>
internal abstract class Mutation<T> : Mutation
{
    // Continuations run on the pool, never on the writer thread, so a slow caller cannot stall commits.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Completion => _completion.Task;

    protected abstract T Result { get; }

    public override void Succeed() => _completion.TrySetResult(Result);

    public override void Fail(Exception error) => _completion.TrySetException(error);
}
