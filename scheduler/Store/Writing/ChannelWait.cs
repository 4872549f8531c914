using System.Threading.Channels;

namespace Mekong.Store;

/// <summary>How a dedicated thread (the store writer, the scheduler loop) waits for its queue.</summary>
public static class ChannelWait
{
    /// <summary>Blocks until <paramref name="reader"/> has work (true) or is completed (false), without spinning
    /// first: <c>Task.Wait</c> spins before it blocks, and on a busy 2-core machine that spinning took 5–8% of the
    /// process's CPU in the submit-load profile, from the very threads that bring the next work.</summary>
    public static bool WaitToRead<T>(ChannelReader<T> reader, ManualResetEventSlim idle)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(idle);
        var pending = reader.WaitToReadAsync();
        if (pending.IsCompleted) return pending.Result;
        var task = pending.AsTask();
        idle.Reset();
        task.ContinueWith(static (_, state) => ((ManualResetEventSlim)state!).Set(), idle,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        idle.Wait();
        return task.Result;
    }
}
