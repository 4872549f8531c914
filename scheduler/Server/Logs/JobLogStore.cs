using System.Collections.Concurrent;
using System.Globalization;
using Mekong.Policy;

namespace Mekong.Scheduler.Logs;

/// <summary>
/// Job output as the agents forward it, one file per job, run, rank and stream under the log directory
/// (<c>{job}/{attempt}-{rank}.out|err</c>). A chunk carries its byte offset, so a file's length is how much
/// has arrived: chunks replayed after a reconnect are skipped or trimmed, and a gap is never papered over.
/// Readers that follow a run wait on a per-file signal.
/// </summary>
internal sealed class JobLogStore(string root)
{
    private readonly ConcurrentDictionary<string, LogFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(long Job, uint Attempt), string[]> _ranks = new();

    public string Root { get; } = root;

    /// <summary>A run started on these nodes, rank order.</summary>
    public void Started(JobId job, uint attempt, IReadOnlyList<string> nodes) => _ranks[(job.Value, attempt)] = nodes.ToArray();

    /// <summary>A run ended: its followers stop once they have read everything, and its files are let go.</summary>
    public void Ended(JobId job, uint attempt)
    {
        if (!_ranks.TryRemove((job.Value, attempt), out var nodes)) return;
        for (var rank = 0; rank < nodes.Length; rank++)
            foreach (var stderr in new[] { false, true })
                if (_files.TryRemove(PathOf(job, attempt, rank, stderr), out var f)) f.Signal();
    }

    /// <summary>Whether the run is over (or was never started here): its output is all there is.</summary>
    public bool HasEnded(JobId job, uint attempt) => !_ranks.ContainsKey((job.Value, attempt));

    /// <summary>Appends what is new in a chunk from <paramref name="node"/>; false when the node runs no rank of that run.</summary>
    public bool Append(JobId job, uint attempt, string node, bool stderr, ulong offset, ReadOnlySpan<byte> data)
    {
        if (!_ranks.TryGetValue((job.Value, attempt), out var nodes)) return false;
        var rank = Array.IndexOf(nodes, node);
        if (rank < 0) return false;
        var file = _files.GetOrAdd(PathOf(job, attempt, rank, stderr), p => new LogFile(p));
        file.Append(offset, data);
        return true;
    }

    /// <summary>Reads up to <paramref name="max"/> bytes from <paramref name="offset"/>; empty at the end.</summary>
    public byte[] Read(JobId job, uint attempt, int rank, bool stderr, long offset, int max) =>
        LogFile.Read(PathOf(job, attempt, rank, stderr), offset, max);

    /// <summary>Completes when the file grows or the run ends (or after <paramref name="timeout"/>).</summary>
    public Task WaitAsync(JobId job, uint attempt, int rank, bool stderr, TimeSpan timeout, CancellationToken cancellationToken) =>
        HasEnded(job, attempt)
            ? Task.CompletedTask
            : _files.GetOrAdd(PathOf(job, attempt, rank, stderr), p => new LogFile(p)).WaitAsync(timeout, cancellationToken);

    private string PathOf(JobId job, uint attempt, int rank, bool stderr) =>
        System.IO.Path.Combine(Root, job.Value.ToString(CultureInfo.InvariantCulture),
            string.Create(CultureInfo.InvariantCulture, $"{attempt}-{rank}.{(stderr ? "err" : "out")}"));

    private sealed class LogFile(string path)
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Append(ulong offset, ReadOnlySpan<byte> data)
        {
            lock (_lock)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                var length = (ulong)stream.Length;
                // Only bytes beyond what arrived before: a replay is skipped, an overlap trimmed, a gap refused.
                if (offset > length || offset + (ulong)data.Length <= length) return;
                stream.Write(data[(int)(length - offset)..]);
            }
            Signal();
        }

        public static byte[] Read(string path, long offset, int max)
        {
            if (!File.Exists(path)) return [];
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (offset >= stream.Length) return [];
            stream.Position = offset;
            var buffer = new byte[(int)Math.Min(max, stream.Length - offset)];
            stream.ReadExactly(buffer);
            return buffer;
        }

        public void Signal()
        {
            TaskCompletionSource previous;
            lock (_lock)
            {
                previous = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            previous.TrySetResult();
        }

        public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            Task changed;
            lock (_lock) changed = _changed.Task;
            try
            {
                await changed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
