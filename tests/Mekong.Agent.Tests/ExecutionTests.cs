using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>Jobs as real processes: their environment, GPUs, exit codes and start failures.</summary>
public sealed class ExecutionTests : IDisposable
{
    private readonly RunnerHarness _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task A_job_sees_exactly_its_GPUs()
    {
        _node.Start(Jobs.Bash("cuda", "echo CUDA=$CUDA_VISIBLE_DEVICES; echo NVIDIA=$NVIDIA_VISIBLE_DEVICES; echo ID=$MEKONG_JOB_ID").Gpus(1, 3));

        var final = await _node.States.Final("cuda");

        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal(0, final.ExitCode);
        Assert.Equal("CUDA=1,3\nNVIDIA=1,3\nID=cuda\n", _node.Stdout("cuda"));
        Assert.Equal(
            [AgentJobState.Starting, AgentJobState.Running, AgentJobState.Exited],
            _node.States.Of("cuda").Select(c => c.State));
    }

    [Fact]
    public async Task Two_concurrent_jobs_get_disjoint_GPUs_and_a_third_on_a_held_GPU_is_refused()
    {
        _node.Start(Jobs.Bash("a", "echo $CUDA_VISIBLE_DEVICES; sleep 0.5").Gpus(0, 1));
        _node.Start(Jobs.Bash("b", "echo $CUDA_VISIBLE_DEVICES; sleep 0.5").Gpus(2, 3));

        var refused = _node.Runner.Start(Jobs.Bash("c", "true").Gpus(1));
        Assert.False(refused.Accepted);
        Assert.Contains("GPU 1 is held by job a", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, _node.Runner.Running().Count);

        await _node.States.Final("a");
        await _node.States.Final("b");
        Assert.Equal("0,1\n", _node.Stdout("a"));
        Assert.Equal("2,3\n", _node.Stdout("b"));

        // Once a ends, its GPUs are free again.
        _node.Start(Jobs.Bash("c", "echo $CUDA_VISIBLE_DEVICES").Gpus(1));
        await _node.States.Final("c");
        Assert.Equal("1\n", _node.Stdout("c"));
    }

    [Fact]
    public void Unknown_and_duplicate_GPUs_are_refused()
    {
        Assert.False(_node.Runner.Start(Jobs.Bash("x", "true").Gpus(7)).Accepted);
        Assert.False(_node.Runner.Start(Jobs.Bash("y", "true").Gpus(2, 2)).Accepted);
        Assert.Empty(_node.States.Of("x"));
    }

    [Fact]
    public async Task A_gang_rank_sees_the_distributed_training_variables()
    {
        var script = "echo $MASTER_ADDR $MASTER_PORT $WORLD_SIZE $NODE_RANK $MEKONG_NUM_NODES $MEKONG_NODE_NAMES";
        _node.Start(Jobs.Bash("gang", script).Gpus(0, 1, 2, 3).Gang(rank: 1, size: 2, master: "node-a", port: 29500, "node-a", "node-b"));

        await _node.States.Final("gang");

        Assert.Equal("node-a 29500 2 1 2 node-a,node-b\n", _node.Stdout("gang"));
    }

    [Fact]
    public async Task The_job_env_is_passed_but_cannot_override_the_GPUs()
    {
        var job = Jobs.Bash("env", "echo $FOO $CUDA_VISIBLE_DEVICES; pwd").Gpus(2);
        job.Env["FOO"] = "bar";
        job.Env["CUDA_VISIBLE_DEVICES"] = "0,1,2,3";
        _node.Start(job);

        await _node.States.Final("env");

        Assert.Equal($"bar 2\n{_node.Runner.Layout.WorkDirectory("env")}\n", _node.Stdout("env"));
    }

    [Fact]
    public async Task The_exit_code_is_reported_and_the_command_runs_without_a_shell()
    {
        var job = new StartJob { JobId = "argv", Attempt = 1 };
        job.Command.AddRange(["printf", "%s|", "a b", "$HOME", "*"]);
        _node.Start(job);
        _node.Start(Jobs.Bash("fails", "exit 3"));

        Assert.Equal(0, (await _node.States.Final("argv")).ExitCode);
        Assert.Equal("a b|$HOME|*|", _node.Stdout("argv"));
        var failed = await _node.States.Final("fails");
        Assert.Equal(AgentJobState.Exited, failed.State);
        Assert.Equal(3, failed.ExitCode);
        Assert.Equal(0, failed.Signal);
    }

    [Fact]
    public async Task A_missing_program_or_working_directory_fails_to_start()
    {
        var missing = new StartJob { JobId = "missing", Attempt = 1 };
        missing.Command.Add("no-such-program-here");
        Assert.True(_node.Runner.Start(missing).Accepted);
        var noDir = Jobs.Bash("nodir", "true");
        noDir.WorkingDir = "/no/such/dir";
        _node.Runner.Start(noDir);

        var a = await _node.States.Final("missing");
        var b = await _node.States.Final("nodir");

        Assert.Equal(AgentJobState.FailedToStart, a.State);
        Assert.Contains("no-such-program-here", a.Message, StringComparison.Ordinal);
        Assert.Equal(AgentJobState.FailedToStart, b.State);
        Assert.Empty(_node.Runner.Running());
    }

    [Fact]
    public async Task A_given_working_directory_is_used()
    {
        var dir = Directory.CreateTempSubdirectory("mekong-wd").FullName;
        try
        {
            var job = Jobs.Bash("wd", "pwd; touch made-here");
            job.WorkingDir = dir;
            _node.Start(job);
            await _node.States.Final("wd");
            Assert.Equal(dir + "\n", _node.Stdout("wd"));
            Assert.True(File.Exists(Path.Combine(dir, "made-here")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
