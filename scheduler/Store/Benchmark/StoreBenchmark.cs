using System.Diagnostics;
using Mekong.Policy;

namespace Mekong.Store;

/// <summary>What <see cref="StoreBenchmark.RunAsync"/> measured.</summary>
public sealed record StoreBenchmarkResult(
    StoreBackend Backend, int Jobs, int Concurrency, double Seconds, double SubmitsPerSecond,
    double P50Ms, double P99Ms, double MaxMs, long Batches, double MeanBatch, int LargestBatch);

/// <summary>Many concurrent durable submissions straight into the store (no API in between): each caller
/// submits one job at a time and waits for its commit, as an API handler would. Latency is from the call to
/// the acknowledgement. For <c>bench store-load</c>; not a unit test.</summary>
public static class StoreBenchmark
{
    public static async Task<StoreBenchmarkResult> RunAsync(string store, int jobs, int concurrency, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var now = DateTimeOffset.UtcNow;
        var command = new JobCommand(["python", "train.py", "--lr", "3e-4"], new Dictionary<string, string> { ["SEED"] = "1" }, "/work");
        var opened = MekongStore.Open(store);
        await using (opened.ConfigureAwait(false))
        {
            var w = opened.Writer;
            await w.SetAccountAsync(new AccountSpec("bench")).ConfigureAwait(false);
            await w.SetAccountAsync(new AccountSpec("bench/load")).ConfigureAwait(false);
            var spec = new JobSpec(default, "bench/load", "bench", "load", 1, 1, "h100", TimeSpan.FromHours(1), now);

            // Warm-up: JIT, prepared statements, the file's first pages.
            for (var i = 0; i < 200; i++) await w.SubmitAsync(spec, command).ConfigureAwait(false);
            var batchesBefore = w.Batches;

            var latencies = new double[jobs];
            var next = -1;
            var clock = Stopwatch.StartNew();
            var callers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < jobs && !cancellationToken.IsCancellationRequested)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await w.SubmitAsync(spec, command).ConfigureAwait(false);
                    latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
            }, cancellationToken)).ToArray();
            await Task.WhenAll(callers).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var batches = w.Batches - batchesBefore;
            Array.Sort(latencies);
            return new StoreBenchmarkResult(opened.Backend, jobs, concurrency, seconds, jobs / seconds,
                Percentile(latencies, 0.50), Percentile(latencies, 0.99), latencies[^1],
                batches, batches == 0 ? 0 : (double)jobs / batches, w.LargestBatch);
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
