using Mekong.Agent.Connection;
using Mekong.Agent.ControlGroups;
using Mekong.Agent.Discovery;
using Mekong.Agent.Execution;

namespace Mekong.Agent.Tests;

/// <summary>GPU discovery parsing, GPU type words, the command line, backoff.</summary>
public sealed class DiscoveryTests
{
    [Fact]
    public void Nvidia_smi_gpu_lines_become_gpus()
    {
        const string csv = """
            0, GPU-11111111-2222-3333-4444-555555555555, NVIDIA H100 80GB HBM3, 81559, 550.54.15
            1, GPU-66666666-2222-3333-4444-555555555555, NVIDIA H100 80GB HBM3, 81559, 550.54.15
            """;

        var (gpus, driver) = NvidiaSmi.ParseGpus(csv, gpuType: null);

        Assert.Equal("550.54.15", driver);
        Assert.Equal(2, gpus.Count);
        Assert.Equal(1u, gpus[1].Index);
        Assert.Equal("GPU-66666666-2222-3333-4444-555555555555", gpus[1].Uuid);
        Assert.Equal("NVIDIA H100 80GB HBM3", gpus[0].Model);
        Assert.Equal(81559UL << 20, gpus[0].MemoryBytes);
        Assert.Equal("h100", gpus[0].GpuType);
        Assert.True(gpus[0].Healthy);
        Assert.Equal("a100-80", NvidiaSmi.ParseGpus(csv, "a100-80").Gpus[0].GpuType);
    }

    [Theory]
    [InlineData("NVIDIA H100 80GB HBM3", "h100")]
    [InlineData("NVIDIA H200", "h200")]
    [InlineData("NVIDIA GH200 480GB", "gh200")]
    [InlineData("NVIDIA A100-SXM4-80GB", "a100")]
    [InlineData("NVIDIA L40S", "l40s")]
    [InlineData("NVIDIA L4", "l4")]
    [InlineData("Tesla T4", "t4")]
    [InlineData("Tesla V100-SXM2-32GB", "v100")]
    [InlineData("NVIDIA A10G", "a10g")]
    [InlineData("Some Future X9", "x9")]
    public void Model_names_map_to_gpu_type_words(string model, string type) => Assert.Equal(type, GpuTypes.FromModel(model));

    [Fact]
    public void Utilization_and_compute_app_lines_parse()
    {
        var util = NvidiaSmi.ParseUtilization("0, 87, 40000, 612.50\n1, [N/A], 0, [N/A]\n");
        Assert.Equal(87f, util[0].UtilizationPercent);
        Assert.Equal(40000UL << 20, util[0].MemoryUsedBytes);
        Assert.Equal(612.5f, util[0].PowerWatts);
        Assert.Equal(0f, util[1].UtilizationPercent);

        var apps = NvidiaSmi.ParseComputeApps("1234, GPU-abc, 2048\n");
        Assert.Equal((1234, "GPU-abc", 2048UL << 20), Assert.Single(apps));
    }

    [Fact]
    public void Simulated_gpus_have_stable_uuids_and_the_node_its_resources()
    {
        var inventory = NodeDiscovery.Discover(new AgentOptions { NodeName = "n1", SimulateGpus = 8, GpuType = "h100", CpuCores = 96, MemoryBytes = 1UL << 40, TopologyBlock = "b2" });

        Assert.Equal(8, inventory.Gpus.Count);
        Assert.Equal("GPU-sim-n1-7", inventory.Gpus[7].Uuid);
        Assert.Equal(96u, inventory.CpuCores);
        Assert.Equal(1UL << 40, inventory.MemoryBytes);
        Assert.Equal("b2", inventory.TopologyBlock);
        Assert.True(NodeDiscovery.MemoryTotal() > 0);
    }

    [Fact]
    public void Without_nvidia_smi_a_node_has_no_gpus()
    {
        var inventory = NodeDiscovery.Discover(new AgentOptions { NvidiaSmi = "/nonexistent/nvidia-smi" });
        Assert.Empty(inventory.Gpus);
        Assert.True(inventory.CpuCores > 0);
    }

    [Fact]
    public void The_command_line_gives_the_options()
    {
        var options = AgentCommandLine.Parse(
            ["--server", "http://10.0.0.1:7070", "--node", "gpu-17", "--state-dir", "/tmp/s", "--simulate-gpus", "8", "--gpu-type", "h100",
             "--block", "rack-3", "--cpus", "64", "--memory-mb", "1024", "--simulate-execution", "--cgroups", "v2", "--sandbox", "bwrap", "--run-as-user"],
            name => name == "MEKONG_AGENT_TOKEN" ? "from-env" : null,
            out var print);

        Assert.False(print);
        Assert.Equal(new Uri("http://10.0.0.1:7070"), options.Server);
        Assert.Equal("from-env", options.Token);
        Assert.Equal("gpu-17", options.NodeName);
        Assert.Equal("/tmp/s", options.StateDirectory);
        Assert.Equal(8, options.SimulateGpus);
        Assert.Equal("h100", options.GpuType);
        Assert.Equal("rack-3", options.TopologyBlock);
        Assert.Equal(64u, options.CpuCores);
        Assert.Equal(1024UL << 20, options.MemoryBytes);
        Assert.True(options.SimulateExecution);
        Assert.Equal(CgroupMode.V2, options.Cgroups);
        Assert.Equal(SandboxMode.Bwrap, options.Sandbox);
        Assert.True(options.RunAsUser);
        Assert.Equal("tok", AgentCommandLine.Parse(["--token", "tok"], _ => "env", out _).Token);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--server")]
    [InlineData("--server", "ftp://x")]
    [InlineData("--simulate-gpus", "-1")]
    [InlineData("--cgroups", "v3")]
    public void A_bad_command_line_is_refused(params string[] args) =>
        Assert.Throws<FormatException>(() => AgentCommandLine.Parse(args, _ => null, out _));

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_up_to_its_cap_and_resets()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(7));
        var delays = Enumerable.Range(0, 8).Select(_ => backoff.Next().TotalMilliseconds).ToList();

        Assert.InRange(delays[0], 50, 100);
        Assert.InRange(delays[1], 100, 200);
        Assert.InRange(delays[2], 200, 400);
        Assert.All(delays.Skip(4), d => Assert.InRange(d, 500, 1000));
        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Theory]
    [InlineData(0x0000, 0, 0)]
    [InlineData(0x0300, 3, 0)]
    [InlineData(0x0009, 137, 9)]
    [InlineData(0x000f, 143, 15)]
    [InlineData(0x0086, 134, 6)] // SIGABRT with a core dump
    public void Wait_statuses_decode_to_exit_code_and_signal(int status, int exitCode, int signal) =>
        Assert.Equal((exitCode, signal), ProcessJob.DecodeWaitStatus(status));

    [Fact]
    public void Proc_stat_lines_with_odd_command_names_parse()
    {
        var stat = Native.ProcInfo.Parse("42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 12345 1000000 250 18446744073709551615");
        Assert.Equal(new Native.ProcStat(42, 'S', 42, 7, 3, 12345, 250), stat);
    }

    [Fact]
    public void Cgroup_v1_mounts_are_found_including_comounted_controllers()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """
                tmpfs /sys/fs/cgroup tmpfs rw 0 0
                cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0
                cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0
                cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0
                """);
            var mounts = CgroupV1Driver.FindMounts(file);
            Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", mounts["cpu"]);
            Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", mounts["cpuacct"]);
            Assert.Equal("/sys/fs/cgroup/memory", mounts["memory"]);
            Assert.False(mounts.ContainsKey("pids"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("a/b/../c", "a_b_.._c")]
    [InlineData("..", "_")]
    [InlineData(".hidden", "hidden")]
    [InlineData("job-1.2_x", "job-1.2_x")]
    public void Names_are_made_safe_for_paths(string name, string safe) => Assert.Equal(safe, CgroupDriver.Sanitise(name));
}
