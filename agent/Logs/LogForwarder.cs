using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Mekong.Agent.Execution;
using Mekong.Api.V1;

namespace Mekong.Agent.Logs;

/// <summary>
/// Reads jobs' output files from where forwarding left off and cuts them into LogChunks of at most
/// 64 KiB, each carrying its byte offset in the stream of its attempt. The offset advances only when a
/// chunk was written to the session, so after a reconnect forwarding resumes where it stood, and the
/// scheduler drops whatever it already had by offset. The files stay on the node.
/// </summary>
public sealed class LogForwarder
{
    /// <summary>Largest chunk (LogChunk.data is at most 64 KiB).</summary>
    public const int MaxChunkBytes = 64 * 1024;

    /// <summary>How long output sent on a session stays at risk: a write to a stream whose far end has just died can
    /// succeed locally and still be lost, so after a broken session forwarding resumes from where it stood at
    /// least this long before.</summary>
    public static readonly TimeSpan AtRisk = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(string JobId, uint Attempt, LogStream Stream), long> _offsets = [];
    private readonly TimeProvider _time;
    private Dictionary<(string JobId, uint Attempt, LogStream Stream), long> _safe = [];
    private Dictionary<(string JobId, uint Attempt, LogStream Stream), long> _pending = [];
    private DateTimeOffset _pendingSince;

    public LogForwarder(TimeProvider time) => _time = time;

    /// <summary>The next chunk of a job's output not yet sent, stdout first; null when there is none.</summary>
    public LogChunk? Next(JobInstance job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return Next(job, LogStream.Stdout, job.StdoutPath) ?? Next(job, LogStream.Stderr, job.StderrPath);
    }

    /// <summary>The chunk was sent.</summary>
    public void Sent(LogChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        _offsets[(chunk.JobId, chunk.Attempt, chunk.Stream)] = (long)chunk.Offset + chunk.Data.Length;
    }

    /// <summary>Called as a session goes on: offsets recorded at least <see cref="AtRisk"/> ago become safe.</summary>
    public void Checkpoint()
    {
        var now = _time.GetUtcNow();
        if (now - _pendingSince < AtRisk) return;
        _safe = _pending;
        _pending = new(_offsets);
        _pendingSince = now;
    }

    /// <summary>The session broke: what was sent after the last safe point goes out again (the scheduler keeps only
    /// bytes beyond what it has, by offset).</summary>
    public void Rewind()
    {
        foreach (var key in _offsets.Keys.ToArray())
            _offsets[key] = Math.Min(_offsets[key], _safe.GetValueOrDefault(key));
        _pending = new(_offsets);
        _safe = new(_offsets);
        _pendingSince = _time.GetUtcNow();
    }

    /// <summary>The job is done and its output sent.</summary>
    public void Forget(string jobId, uint attempt)
    {
        _offsets.Remove((jobId, attempt, LogStream.Stdout));
        _offsets.Remove((jobId, attempt, LogStream.Stderr));
    }

    private LogChunk? Next(JobInstance job, LogStream stream, string? path)
    {
        if (path is null)
        {
            return null;
        }

        var offset = _offsets.GetValueOrDefault((job.JobId, job.Attempt, stream));
        byte[] buffer;
        int read;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (file.Length <= offset)
            {
                return null;
            }

            buffer = new byte[Math.Min(MaxChunkBytes, file.Length - offset)];
            file.Position = offset;
            read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        return read == 0 ? null : new LogChunk
        {
            JobId = job.JobId,
            Attempt = job.Attempt,
            Stream = stream,
            Offset = (ulong)offset,
            Data = ByteString.CopyFrom(buffer, 0, read),
            Time = Timestamp.FromDateTimeOffset(_time.GetUtcNow()),
        };
    }
}
