using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Scheduler;
using Mekong.Transport;

namespace Mekong.Bench;

/// <summary><c>submit-load [--jobs N] [--concurrency N] [--store S] [--connections N] [--json]</c>: starts a real
/// scheduler (SQLite in a temporary directory unless <c>--store</c> names another store) on a loopback port and
/// submits through the real gRPC client path — HTTP/2, authentication, validation, group commit, the
/// scheduler loop — from <c>--concurrency</c> concurrent callers. A submission's latency is its round trip.</summary>
internal static class SubmitLoadVerb
{
    public static async Task<int> RunAsync(string[] args)
    {
        var jobs = 50_000;
        var concurrency = 64;
        var connections = 4;
        string? store = null;
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--jobs": jobs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--connections": connections = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--store": store = args[++i]; break;
                case "--json": json = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (jobs < 1 || concurrency < 1 || connections < 1) throw new ArgumentException("--jobs, --concurrency and --connections must be at least 1");
        var temp = store is null ? Directory.CreateTempSubdirectory("mekong-submit-load-") : null;
        try
        {
            var options = new SchedulerOptions { Store = store ?? $"Data Source={Path.Combine(temp!.FullName, "mekong.db")}", Listen = "127.0.0.1:0" };
            await using var host = await SchedulerHost.StartAsync(options).ConfigureAwait(false);
            var token = await host.IssueTokenAsync("bench", ["admin"], "submit-load").ConfigureAwait(false);
            var project = $"bench-{Guid.NewGuid():N}"[..14];
            var channels = Enumerable.Range(0, connections).Select(_ => new RpcChannel(host.Address, new RpcChannelOptions { BearerToken = token })).ToArray();
            var admin = new AdminServiceClient(channels[0]);
            await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = project } }).ConfigureAwait(false);
            await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = project + "/load" } }).ConfigureAwait(false);
            var clients = channels.Select(c => new JobServiceClient(c)).ToArray();
            var request = Request(project + "/load");

            // Warm the connections, the JIT and the store before measuring.
            await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, 256)).Select(i => clients[i % clients.Length].SubmitJobAsync(request))).ConfigureAwait(false);

            var gcPause = GC.GetTotalPauseDuration();
            var allocated = GC.GetTotalAllocatedBytes();
            int gen0 = GC.CollectionCount(0), gen2 = GC.CollectionCount(2);
            var latencies = new double[jobs];
            var next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
            {
                var client = clients[worker % clients.Length];
                int n;
                while ((n = Interlocked.Increment(ref next)) < jobs)
                {
                    var started = Stopwatch.GetTimestamp();
                    await client.SubmitJobAsync(request).ConfigureAwait(false);
                    latencies[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            })).ConfigureAwait(false);
            var elapsed = clock.Elapsed.TotalSeconds;
            gcPause = GC.GetTotalPauseDuration() - gcPause;
            allocated = GC.GetTotalAllocatedBytes() - allocated;
            gen0 = GC.CollectionCount(0) - gen0;
            gen2 = GC.CollectionCount(2) - gen2;
            var loop = host.LoopStatistics;
            foreach (var c in channels) c.Dispose();
            var backend = store is null || !store.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? "sqlite" : "postgres";
            var rate = jobs / elapsed;
            var p50 = Stats.Percentile(latencies, 50);
            var p99 = Stats.Percentile(latencies, 99);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{backend}: {jobs} submissions through gRPC, {concurrency} callers on {connections} connections: {rate:F0}/s, p50 {p50:F2} ms, p99 {p99:F2} ms, max {latencies.Max():F2} ms; scheduler loop: {loop.Decisions} decisions, {loop.DecisionTime.TotalSeconds:F2} s deciding, {loop.Items} items"));
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["backend"] = backend,
                    ["jobs"] = jobs,
                    ["concurrency"] = concurrency,
                    ["connections"] = connections,
                    ["submits_per_s"] = Math.Round(rate),
                    ["submit_ms_p50"] = Stats.Round(p50),
                    ["submit_ms_p99"] = Stats.Round(p99),
                    ["submit_ms_max"] = Stats.Round(latencies.Max()),
                    ["decisions"] = loop.Decisions,
                    ["decision_s"] = Stats.Round(loop.DecisionTime.TotalSeconds),
                    // Client and server share this process: its collections pause both.
                    ["gc_collections"] = gen0,
                    ["gc_gen2_collections"] = gen2,
                    ["gc_pause_ms"] = Stats.Round(gcPause.TotalMilliseconds),
                    ["allocated_kb_per_submit"] = Stats.Round(allocated / 1024.0 / jobs, 1),
                }));
            return 0;
        }
        finally
        {
            temp?.Delete(recursive: true);
        }
    }

    private static SubmitJobRequest Request(string project)
    {
        var spec = new JobSpec
        {
            Project = project,
            Name = "load",
            GpusPerNode = 1,
            Walltime = Duration.FromTimeSpan(TimeSpan.FromHours(1)),
            Preemptible = true,
        };
        spec.Command.AddRange(["python", "train.py"]);
        return new SubmitJobRequest { Spec = spec };
    }
}
