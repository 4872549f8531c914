using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Mekong.Agent;
using Mekong.Agent.ControlGroups;
using Mekong.Api.V1;
using Mekong.Scheduler;
using Mekong.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mekong.Bench;

/// <summary>
/// <c>lifecycle [--agents N] [--jobs N] [--concurrency N] [--duration-s S] [--start-samples N] [--real] [--store S] [--json]</c>:
/// a real scheduler (SQLite in a temporary directory unless <c>--store</c>) on a loopback port and <c>--agents</c>
/// in-process <see cref="NodeAgent"/>s speaking the real agent protocol over a few shared channels.
/// <list type="bullet">
/// <item><c>start_ms_*</c>: <c>--start-samples</c> jobs submitted one at a time to the idle cluster; from the start of
/// the submit call to the agent receiving StartJob (simulated), or the agent reporting the process RUNNING
/// (<c>--real</c>: the job runs <c>true</c>).</item>
/// <item><c>lifecycles_per_s</c>: <c>--jobs</c> jobs submitted by <c>--concurrency</c> callers; from the first submit to
/// the last job's end committed in the store (the WatchProject event of its final state, which follows the commit).</item>
/// </list>
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class LifecycleVerb
{
    public static async Task<int> RunAsync(string[] args)
    {
        var real = args.Contains("--real");
        var agentCount = real ? 4 : 500;
        var jobs = real ? 500 : 20_000;
        var concurrency = 64;
        var connections = 4;
        var agentChannels = 4;
        var gpusPerNode = 8;
        var duration = 0.0;
        var samples = real ? 50 : 100;
        string? store = null;
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--agents": agentCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--jobs": jobs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--connections": connections = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--agent-channels": agentChannels = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--gpus-per-node": gpusPerNode = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--duration-s": duration = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--start-samples": samples = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--store": store = args[++i]; break;
                case "--real": break;
                case "--json": json = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (agentCount < 1 || jobs < 1 || concurrency < 1 || connections < 1 || agentChannels < 1 || gpusPerNode < 1 || samples < 1 || duration < 0)
            throw new ArgumentException("--agents, --jobs, --concurrency, --connections, --agent-channels, --gpus-per-node and --start-samples must be at least 1; --duration-s at least 0");

        var temp = Directory.CreateTempSubdirectory("mekong-lifecycle-");
        using var stop = new CancellationTokenSource();
        var agents = new List<NodeAgent>();
        var running = new List<Task>();
        var channels = new List<RpcChannel>();
        try
        {
            var options = new SchedulerOptions { Store = store ?? $"Data Source={Path.Combine(temp.FullName, "mekong.db")}", Listen = "127.0.0.1:0" };
            await using var host = await SchedulerHost.StartAsync(options).ConfigureAwait(false);
            var token = await host.IssueTokenAsync("bench", ["admin"], "lifecycle").ConfigureAwait(false);
            var agentToken = await host.IssueTokenAsync("bench-agents", ["agent"], "lifecycle-agents").ConfigureAwait(false);
            var project = $"bench-{Guid.NewGuid():N}"[..14];
            for (var i = 0; i < connections; i++) channels.Add(new RpcChannel(host.Address, new RpcChannelOptions { BearerToken = token }));
            var admin = new AdminServiceClient(channels[0]);
            await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = project } }).ConfigureAwait(false);
            await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = project + "/probe" } }).ConfigureAwait(false);
            await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = project + "/load" } }).ConfigureAwait(false);
            var clients = channels.Select(c => new JobServiceClient(c)).ToArray();

            // The agents: the agent-side moment a job is told to start (simulated) or its process runs (real).
            var told = new ConcurrentDictionary<string, TaskCompletionSource<long>>(StringComparer.Ordinal);
            var tell = real ? AgentJobState.Running : AgentJobState.Starting;
            var agentChannelList = Enumerable.Range(0, agentChannels).Select(_ => new RpcChannel(host.Address)).ToArray();
            channels.AddRange(agentChannelList);
            for (var i = 0; i < agentCount; i++)
            {
                var agent = new NodeAgent(new AgentOptions
                {
                    Server = host.Address,
                    Token = agentToken,
                    NodeName = $"node-{i:D4}",
                    StateDirectory = Path.Combine(temp.FullName, "agents", $"node-{i:D4}"),
                    SimulateGpus = gpusPerNode,
                    GpuType = "h100",
                    CpuCores = 64,
                    MemoryBytes = 512UL << 30,
                    SimulateExecution = !real,
                    Cgroups = CgroupMode.None,
                }, NullLoggerFactory.Instance, channel: agentChannelList[i % agentChannelList.Length]);
                agent.Jobs.StateChanged += change =>
                {
                    if (change.State == tell) told.GetOrAdd(change.JobId, NewSignal).TrySetResult(Stopwatch.GetTimestamp());
                };
                agents.Add(agent);
            }
            var connecting = Stopwatch.StartNew();
            running.AddRange(agents.Select(a => a.RunAsync(stop.Token)));
            while (agents.Any(a => a.Sessions == 0))
            {
                if (connecting.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("agents did not all connect in 120 s");
                await Task.Delay(20).ConfigureAwait(false);
            }
            var connectS = connecting.Elapsed.TotalSeconds;
            // Let the first heartbeats land (a node takes jobs once its agent is welcomed and has reported).
            await Task.Delay(500).ConfigureAwait(false);

            // 1. Submit → start on the idle cluster, one job at a time (also warms the paths).
            var probe = Request(project + "/probe", real, 0);
            var startLatencies = new List<double>();
            for (var i = 0; i < samples + 5; i++)
            {
                var began = Stopwatch.GetTimestamp();
                var response = await clients[0].SubmitJobAsync(probe).ConfigureAwait(false);
                var signal = told.GetOrAdd(response.Job.Id, NewSignal).Task;
                if (await Task.WhenAny(signal, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false) != signal)
                {
                    var explained = await clients[0].ExplainJobAsync(new ExplainJobRequest { Id = response.Job.Id }).ConfigureAwait(false);
                    throw new TimeoutException($"job {response.Job.Id} was not started in 30 s: {explained}");
                }
                var at = await signal.ConfigureAwait(false);
                if (i >= 5) startLatencies.Add(Stopwatch.GetElapsedTime(began, at).TotalMilliseconds);
                await Task.Delay(real ? 50 : 10).ConfigureAwait(false); // the job ends; the cluster is idle again
            }

            // 2. Lifecycles: submit → start → end committed, from concurrent callers.
            var load = Request(project + "/load", real, duration);
            var watchRequest = new WatchProjectRequest { Project = project + "/load" };
            watchRequest.States.AddRange([JobState.Succeeded, JobState.Failed, JobState.Cancelled, JobState.TimedOut]);
            using var watch = clients[^1].WatchProject(watchRequest);
            await watch.ResponseHeadersAsync.ConfigureAwait(false);
            var ended = 0;
            var succeeded = 0;
            long lastEnd = 0;
            var allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var watching = Task.Run(async () =>
            {
                while (await watch.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
                {
                    var e = watch.ResponseStream.Current;
                    if (e.Type != JobEventType.StateChanged) continue;
                    if (e.Job.State == JobState.Succeeded) succeeded++;
                    lastEnd = Stopwatch.GetTimestamp();
                    if (++ended == jobs) allEnded.TrySetResult();
                }
            });
            var submitLatencies = new double[jobs];
            var next = -1;
            var first = Stopwatch.GetTimestamp();
            var submitting = Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
            {
                var client = clients[worker % clients.Length];
                int n;
                while ((n = Interlocked.Increment(ref next)) < jobs)
                {
                    var began = Stopwatch.GetTimestamp();
                    await client.SubmitJobAsync(load).ConfigureAwait(false);
                    submitLatencies[n] = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
                }
            }));
            await submitting.ConfigureAwait(false);
            var submitS = Stopwatch.GetElapsedTime(first).TotalSeconds;
            var finished = await Task.WhenAny(allEnded.Task, watching, Task.Delay(TimeSpan.FromSeconds(60 + jobs / 100.0))).ConfigureAwait(false);
            if (finished != allEnded.Task)
            {
                if (watching.IsFaulted) throw new InvalidOperationException("the watch ended early", watching.Exception!.GetBaseException());
                throw new TimeoutException($"only {ended} of {jobs} jobs ended");
            }
            var elapsed = Stopwatch.GetElapsedTime(first, lastEnd).TotalSeconds;
            var loop = host.LoopStatistics;
            var rate = jobs / elapsed;
            var p50 = Stats.Percentile(startLatencies, 50);
            var p99 = Stats.Percentile(startLatencies, 99);
            var backend = store is null || !store.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? "sqlite" : "postgres";
            var what = real ? "process running" : "StartJob received";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{backend}, {agentCount} {(real ? "real" : "simulated")} agents × {gpusPerNode} GPUs: {jobs} lifecycles ({succeeded} succeeded) in {elapsed:F2} s = {rate:F0}/s (submits {jobs / submitS:F0}/s, p99 {Stats.Percentile(submitLatencies, 99):F1} ms); idle submit → {what}: p50 {p50:F2} ms, p99 {p99:F2} ms; scheduler loop: {loop.Decisions} decisions, {loop.DecisionTime.TotalSeconds:F2} s deciding, {loop.Items} items; agents connected in {connectS:F1} s"));
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["backend"] = backend,
                    ["mode"] = real ? "real" : "simulated",
                    ["agents"] = agentCount,
                    ["jobs"] = jobs,
                    ["succeeded"] = succeeded,
                    ["duration_s"] = duration,
                    ["lifecycles_per_s"] = Math.Round(rate),
                    ["lifecycle_s"] = Stats.Round(elapsed),
                    ["submits_per_s"] = Math.Round(jobs / submitS),
                    ["submit_ms_p99"] = Stats.Round(Stats.Percentile(submitLatencies, 99)),
                    ["start_ms_p50"] = Stats.Round(p50),
                    ["start_ms_p99"] = Stats.Round(p99),
                    ["start_samples"] = startLatencies.Count,
                    ["decisions"] = loop.Decisions,
                    ["decision_s"] = Stats.Round(loop.DecisionTime.TotalSeconds),
                    ["connect_s"] = Stats.Round(connectS),
                }));
            return succeeded == jobs ? 0 : 1;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            foreach (var a in agents) a.Dispose();
            foreach (var c in channels) c.Dispose();
            temp.Delete(recursive: true);
        }
    }

    private static TaskCompletionSource<long> NewSignal(string _) => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static SubmitJobRequest Request(string project, bool real, double duration)
    {
        var spec = new JobSpec
        {
            Project = project,
            Name = "lifecycle",
            GpusPerNode = 1,
            Walltime = Duration.FromTimeSpan(TimeSpan.FromHours(1)),
            // The bench accounts have no guarantee: the jobs borrow idle GPUs, as submit-load's do.
            Preemptible = true,
        };
        spec.Command.Add("true");
        if (!real) spec.Env["MEKONG_SIM_DURATION_S"] = duration.ToString(CultureInfo.InvariantCulture);
        return new SubmitJobRequest { Spec = spec };
    }
}
