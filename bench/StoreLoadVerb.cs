using System.Globalization;
using System.Text.Json;
using Mekong.Store;

namespace Mekong.Bench;

/// <summary><c>store-load [--jobs N] [--concurrency N] [--store S] [--json]</c>: durable submissions straight
/// into the store (group commit), SQLite in a temporary directory unless <c>--store</c> names another.</summary>
internal static class StoreLoadVerb
{
    public static async Task<int> RunAsync(string[] args)
    {
        var jobs = 50_000;
        var concurrency = 64;
        string? store = null;
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--jobs": jobs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--store": store = args[++i]; break;
                case "--json": json = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        var temp = store is null ? Directory.CreateTempSubdirectory("mekong-store-load-") : null;
        try
        {
            var result = await StoreBenchmark.RunAsync(store ?? Path.Combine(temp!.FullName, "mekong.db"), jobs, concurrency).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Backend}: {result.Jobs} submissions, {result.Concurrency} callers: {result.SubmitsPerSecond:F0}/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, max {result.MaxMs:F2} ms; {result.Batches} commits, {result.MeanBatch:F1} per commit (largest {result.LargestBatch})"));
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["backend"] = result.Backend.ToString().ToLowerInvariant(),
                    ["jobs"] = result.Jobs,
                    ["concurrency"] = result.Concurrency,
                    ["submits_per_s"] = Math.Round(result.SubmitsPerSecond),
                    ["submit_ms_p50"] = Math.Round(result.P50Ms, 3),
                    ["submit_ms_p99"] = Math.Round(result.P99Ms, 3),
                    ["submit_ms_max"] = Math.Round(result.MaxMs, 3),
                    ["commits"] = result.Batches,
                    ["mean_batch"] = Math.Round(result.MeanBatch, 1),
                }));
            return 0;
        }
        finally
        {
            temp?.Delete(recursive: true);
        }
    }
}
