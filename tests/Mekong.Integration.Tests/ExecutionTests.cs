using System.Globalization;
using Mekong.Api.V1;
using Mekong.Integration.Tests.Harness;

namespace Mekong.Integration.Tests;

/// <summary>
/// Jobs as real processes on a 2-node × 4-GPU cluster (scheduler and agents in this process): GPUs in the
/// environment and the logs, disjoint concurrent jobs, gang variables, walltime, cancellation, memory limit.
/// </summary>
public sealed class ExecutionTests : IAsyncLifetime
{
    private const string Project = "lab/train";
    private Cluster _cluster = null!;

    private ClusterApi Api => _cluster.Api;

    public async Task InitializeAsync()
    {
        _cluster = await Cluster.StartAsync(nodes: 2, gpus: 4);
        await Api.ProjectAsync(Project, guarantee: 8);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_job_sees_exactly_its_GPUs_and_its_log_says_so()
    {
        // Held until released: allocations are shown only while the job runs.
        var flag = Path.Combine(_cluster.Directory, "release-one");
        var job = await Api.SubmitAsync(Project,
            $"echo $CUDA_VISIBLE_DEVICES; echo NVIDIA=$NVIDIA_VISIBLE_DEVICES >&2; while [ ! -e {flag} ]; do sleep 0.1; done", gpus: 2);
        var running = await Api.WaitAsync(job.Id, j => j.Allocations.Count > 0 || ClusterApi.IsFinal(j), "placed");
        var gpus = string.Join(',', Assert.Single(running.Allocations).GpuIndices);
        await File.WriteAllTextAsync(flag, "");

        var done = await Api.WaitStateAsync(job.Id, JobState.Succeeded);
        Assert.Equal(0, done.ExitCode);
        Assert.Equal(gpus + "\n", await Api.LogsAsync(job.Id));
        Assert.Equal($"NVIDIA={gpus}\n", await Api.LogsAsync(job.Id, stderr: true));
        Assert.Equal(2, gpus.Split(',').Distinct().Count());
    }

    [Fact]
    public async Task Concurrent_jobs_never_share_a_GPU()
    {
        // Four 2-GPU jobs fill the 8 GPUs: all run at once, each on GPUs of its own.
        var flag = Path.Combine(_cluster.Directory, "release");
        var jobs = new List<Job>();
        for (var i = 0; i < 4; i++)
            jobs.Add(await Api.SubmitAsync(Project, $"echo $MEKONG_NODE_NAME $CUDA_VISIBLE_DEVICES; while [ ! -e {flag} ]; do sleep 0.1; done", gpus: 2));

        var running = new List<Job>();
        foreach (var job in jobs) running.Add(await Api.WaitStateAsync(job.Id, JobState.Running));
        var held = running.SelectMany(j => j.Allocations.SelectMany(a => a.GpuIndices.Select(g => (a.Node, g)))).ToList();
        Assert.Equal(8, held.Count);
        Assert.Equal(8, held.Distinct().Count());

        // What each process saw is what it was given.
        foreach (var job in running)
        {
            var a = Assert.Single(job.Allocations);
            await Poll.UntilAsync(() => Api.LogsAsync(job.Id), l => l.Length > 0, $"job {job.Id}'s first line");
            Assert.Equal($"{a.Node} {string.Join(',', a.GpuIndices)}\n", await Api.LogsAsync(job.Id));
        }

        await File.WriteAllTextAsync(flag, "");
        foreach (var job in jobs) await Api.WaitStateAsync(job.Id, JobState.Succeeded);
    }

    [Fact]
    public async Task A_two_node_gang_sees_consistent_rank_variables()
    {
        // The ranks wait for a flag: a job's allocations are shown only while it runs, and an echo alone could
        // finish before the first poll sees it.
        var flag = Path.Combine(_cluster.Directory, "release-gang");
        var job = await Api.SubmitAsync(Project,
            "echo $MASTER_ADDR $MASTER_PORT $WORLD_SIZE $NODE_RANK $MEKONG_NUM_NODES $MEKONG_NODE_NAME $CUDA_VISIBLE_DEVICES; " +
            $"while [ ! -e {flag} ]; do sleep 0.1; done", gpus: 2, nodes: 2);
        var placed = await Api.WaitAsync(job.Id, j => j.Allocations.Count == 2 || ClusterApi.IsFinal(j), "placed on two nodes");
        var allocations = placed.Allocations.OrderBy(a => a.Rank).ToList();
        await File.WriteAllTextAsync(flag, "");
        await Api.WaitStateAsync(job.Id, JobState.Succeeded);

        var lines = new List<string[]>();
        for (var rank = 0u; rank < 2; rank++) lines.Add((await Api.LogsAsync(job.Id, rank: rank)).Trim().Split(' '));
        Assert.Equal(2, allocations.Select(a => a.Node).Distinct().Count());
        for (var rank = 0; rank < 2; rank++)
        {
            var l = lines[rank];
            Assert.Equal(allocations[0].Node, l[0]);                     // MASTER_ADDR: rank 0's node
            Assert.Equal(lines[0][1], l[1]);                             // one MASTER_PORT
            Assert.True(int.TryParse(l[1], CultureInfo.InvariantCulture, out var port) && port > 0, l[1]);
            Assert.Equal("2", l[2]);                                     // WORLD_SIZE
            Assert.Equal(rank.ToString(CultureInfo.InvariantCulture), l[3]); // NODE_RANK
            Assert.Equal("2", l[4]);
            Assert.Equal(allocations[rank].Node, l[5]);
            Assert.Equal(string.Join(',', allocations[rank].GpuIndices), l[6]);
        }
    }

    [Fact]
    public async Task A_walltime_overrun_is_killed_and_the_job_times_out()
    {
        var pidFile = Path.Combine(_cluster.Directory, "walltime.pid");
        var job = await Api.SubmitAsync(Project, $"echo $$ > {pidFile}; exec sleep 600", walltime: TimeSpan.FromSeconds(2), grace: TimeSpan.FromSeconds(1));
        var ended = await Api.WaitStateAsync(job.Id, JobState.TimedOut, timeoutSeconds: 45);
        Assert.NotNull(ended.EndTime);
        Assert.False(Poll.ProcessAlive(ReadPid(pidFile)));
    }

    [Fact]
    public async Task A_cancelled_job_dies()
    {
        var pidFile = Path.Combine(_cluster.Directory, "cancel.pid");
        var job = await Api.SubmitAsync(Project, $"echo $$ > {pidFile}; sleep 600 & wait", grace: TimeSpan.FromSeconds(2));
        await Api.WaitStateAsync(job.Id, JobState.Running);
        await Poll.UntilAsync(() => File.Exists(pidFile) && new FileInfo(pidFile).Length > 0, "the job's pid file");
        var pid = ReadPid(pidFile);
        Assert.True(Poll.ProcessAlive(pid));

        var cancelled = (await Api.Jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id, Reason = "test" })).Job;
        Assert.Equal(JobState.Cancelled, cancelled.State);
        await Poll.UntilAsync(() => !Poll.ProcessAlive(pid), $"process {pid} gone");
        // Its GPU is free again once the agent reported the exit: a job needing every GPU of the cluster runs.
        var after = await Api.SubmitAsync(Project, "true", gpus: 4, nodes: 2);
        await Api.WaitStateAsync(after.Id, JobState.Succeeded);
    }

    [Fact]
    public async Task Memory_over_the_limit_is_killed_and_the_job_fails()
    {
        var job = await Api.SubmitAsync(Project,
            "python3 -c 'import time; b = bytearray(600 * 1024 * 1024); time.sleep(30)'", memoryBytes: 64UL * 1024 * 1024);
        var failed = await Api.WaitStateAsync(job.Id, JobState.Failed, timeoutSeconds: 45);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("memory", failed.StateMessage, StringComparison.OrdinalIgnoreCase);
    }

    private static int ReadPid(string path) => int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
}
