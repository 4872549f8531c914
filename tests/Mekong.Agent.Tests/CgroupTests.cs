using System.Globalization;
using Mekong.Agent.Execution;
using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>Control groups for real: on this machine (root, cgroup v1) memory, cpu, cpuacct and pids.</summary>
public sealed class CgroupTests : IDisposable
{
    private readonly RunnerHarness _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public void The_driver_is_the_one_this_machine_has()
    {
        Assert.Equal(RunnerHarness.ExpectedCgroupVersion, _node.Cgroups.Version);
        Assert.Equal(RunnerHarness.ExpectedCgroupVersion, _node.Runner.CgroupVersion);
    }

    [Fact]
    public async Task A_job_runs_in_its_own_group_with_its_memory_and_cpu_limits()
    {
        if (_node.Cgroups.Version == 0)
        {
            return; // Not root, or no cgroup fs: nothing to check (the inventory says version 0).
        }

        var job = Jobs.Bash("limited", "cat /proc/self/cgroup; sleep 30").Memory(256);
        job.CpuCores = 2;
        _node.Start(job);
        var process = (ProcessJob)_node.Runner.Find("limited", 1)!;
        await Poll.Until(() => _node.Stdout("limited").Contains("memory", StringComparison.Ordinal), "the job's output");

        var group = $"/{RunnerHarness.CgroupParent}/{_node.Node}/limited.1";
        if (_node.Cgroups.Version == 1)
        {
            Assert.Contains($":memory:{group}\n", _node.Stdout("limited"), StringComparison.Ordinal);
            Assert.Contains($":pids:{group}\n", _node.Stdout("limited"), StringComparison.Ordinal);
            Assert.Equal((256L << 20).ToString(CultureInfo.InvariantCulture), Read($"/sys/fs/cgroup/memory{group}/memory.limit_in_bytes"));
            Assert.Equal("200000", Read($"/sys/fs/cgroup/cpu{group}/cpu.cfs_quota_us"));
            Assert.Contains(process.Pid, process.Cgroup.Pids());
        }
        else
        {
            Assert.Contains($"0::{group}\n", _node.Stdout("limited"), StringComparison.Ordinal);
            Assert.Equal((256L << 20).ToString(CultureInfo.InvariantCulture), Read($"/sys/fs/cgroup{group}/memory.max"));
            Assert.Equal("200000 100000", Read($"/sys/fs/cgroup{group}/cpu.max"));
        }

        _node.Runner.Stop(Jobs.Stop("limited", 0));
        await _node.States.Final("limited");
        // The group is removed with the job.
        await Poll.Until(() => !Directory.Exists($"/sys/fs/cgroup/memory{group}") && !Directory.Exists($"/sys/fs/cgroup{group}"), "the group to go");
    }

    [Fact]
    public async Task Memory_over_the_limit_is_killed_by_the_OOM_killer_and_reported()
    {
        if (_node.Cgroups.Version == 0)
        {
            return;
        }

        // tail buffers an endless line: its memory grows until the kernel kills it.
        var job = Jobs.Bash("hog", "echo start; tail /dev/zero; echo after").Memory(64);
        _node.Start(job);

        var final = await _node.States.Final("hog", timeoutSeconds: 20);

        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal("out of memory", final.Message);
        // bash reports its child's death by SIGKILL (137) and goes on; either way the job saw the OOM kill.
        Assert.Contains("after", _node.Stdout("hog"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_killed_by_the_OOM_killer_itself_reports_SIGKILL()
    {
        if (_node.Cgroups.Version == 0)
        {
            return;
        }

        var job = new StartJob { JobId = "hog2", Attempt = 1, MemoryBytes = 64UL << 20 };
        job.Command.AddRange(["tail", "/dev/zero"]);
        _node.Start(job);

        var final = await _node.States.Final("hog2", timeoutSeconds: 20);

        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal(9, final.Signal);
        Assert.Equal("out of memory", final.Message);
    }

    [Fact]
    public async Task Usage_counts_the_jobs_cpu_time_and_memory()
    {
        _node.Start(Jobs.Bash("busy", "x=$(head -c 20000000 /dev/zero | tr '\\0' a); echo ready; while true; do :; done"));
        await Poll.Until(() => _node.Stdout("busy").Contains("ready", StringComparison.Ordinal), "the job to be ready");
        await Task.Delay(300);

        var sampler = new Usage.UsageSampler(_node.Options, _node.Inventory, TimeProvider.System);
        var report = sampler.Sample(_node.Runner.Jobs());

        var sample = Assert.Single(report.Samples);
        Assert.Equal("busy", sample.JobId);
        Assert.True(sample.CpuSeconds > 0.1, $"cpu seconds {sample.CpuSeconds}");
        Assert.True(sample.MemoryBytes > 10_000_000, $"memory {sample.MemoryBytes}");
    }

    private static string Read(string path) => File.ReadAllText(path).Trim();
}
