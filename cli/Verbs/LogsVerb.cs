using System.CommandLine;
using System.Text;
using Mekong.Api.V1;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong logs JOB [-f] [--stderr] [--attempt N] [--rank N]</c>: a job's output as the agents forwarded it,
/// byte for byte. With <c>-f</c> it follows the run until it ends (or Ctrl-C); a job that has not started yet is
/// waited for. Without <c>--attempt</c> the latest run; <c>--rank</c> picks a gang's node.
/// </summary>
internal static class LogsVerb
{
    public static Command Create(VerbHost host)
    {
        var id = new Argument<string>("job") { Description = "job id (j-000123)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing new output until the run ends (Ctrl-C stops)" };
        var stderr = new Option<bool>("--stderr") { Description = "standard error instead of standard output" };
        var attempt = VerbOptions.Count("--attempt", "which run (1 for the first, higher after each requeue); default the latest", 0);
        var rank = VerbOptions.Count("--rank", "which node of a gang (0 first)", 0);
        var verb = new Command("logs", "print a job's output (-f: follow it until the run ends)");
        verb.Arguments.Add(id);
        foreach (var o in new Option[] { follow, stderr, attempt, rank }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var jobId = context.Get(id);
            var request = new ReadJobLogsRequest
            {
                Id = jobId,
                Follow = context.Get(follow),
                Stream = context.Get(stderr) ? OutputStream.Stderr : OutputStream.Stdout,
                Attempt = context.Get(attempt),
                Rank = context.Get(rank),
            };
            using var sink = new Sink(context.Output);
            try
            {
                // The server follows only a running run: with -f, wait for a job that has not started yet.
                if (request.Follow && request.Attempt == 0) await WaitUntilStartedAsync(connection, jobId, context.Cancellation).ConfigureAwait(false);
                using var call = connection.Jobs.ReadJobLogs(request, connection.Stream());
                while (await call.ResponseStream.MoveNext(context.Cancellation).ConfigureAwait(false))
                {
                    await sink.WriteAsync(call.ResponseStream.Current.Data.Memory, context.Cancellation).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (context.Cancellation.IsCancellationRequested && e is OperationCanceledException or Transport.RpcException)
            {
                // Ctrl-C is how a follow may end: not an error.
            }

            await sink.FlushAsync().ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    /// <summary>Returns once the job runs or has ended (pending, held and preempted jobs are waited for).</summary>
    private static async Task WaitUntilStartedAsync(Client.MekongConnection connection, string id, CancellationToken cancellation)
    {
        using var watch = connection.Jobs.WatchJob(new WatchJobRequest { Id = id }, connection.Stream());
        while (await watch.ResponseStream.MoveNext(cancellation).ConfigureAwait(false))
        {
            if (watch.ResponseStream.Current.Job?.State is not (JobState.Pending or JobState.Held or JobState.Preempted)) return;
        }
    }

    /// <summary>
    /// Where the bytes go: the process's standard output as raw bytes when the verb writes to the console (job
    /// output is not necessarily text), else the given writer through a UTF-8 decoder that keeps a character split
    /// across chunks whole (tests, in-process callers).
    /// </summary>
    private sealed class Sink : IDisposable
    {
        private readonly TextWriter _writer;
        private readonly Stream? _raw;
        private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();

        public Sink(TextWriter writer)
        {
            _writer = writer;
            if (ReferenceEquals(writer, Console.Out)) _raw = Console.OpenStandardOutput();
        }

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellation)
        {
            if (_raw is not null)
            {
                await _raw.WriteAsync(data, cancellation).ConfigureAwait(false);
                await _raw.FlushAsync(cancellation).ConfigureAwait(false);
                return;
            }

            var chars = new char[_decoder.GetCharCount(data.Span, flush: false)];
            var n = _decoder.GetChars(data.Span, chars, flush: false);
            await _writer.WriteAsync(chars.AsMemory(0, n), cancellation).ConfigureAwait(false);
            await _writer.FlushAsync(cancellation).ConfigureAwait(false);
        }

        public async Task FlushAsync()
        {
            if (_raw is not null)
            {
                await _raw.FlushAsync().ConfigureAwait(false);
                return;
            }

            var chars = new char[_decoder.GetCharCount([], flush: true)];
            var n = _decoder.GetChars([], chars, flush: true);
            if (n > 0) await _writer.WriteAsync(chars.AsMemory(0, n)).ConfigureAwait(false);
            await _writer.FlushAsync().ConfigureAwait(false);
        }

        public void Dispose() => _raw?.Dispose();
    }
}
