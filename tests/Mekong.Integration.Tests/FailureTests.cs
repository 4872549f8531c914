using System.Globalization;
using Mekong.Api.V1;
using Mekong.Integration.Tests.Harness;

namespace Mekong.Integration.Tests;

/// <summary>
/// Crashes with real processes: the scheduler SIGKILLed while jobs run (restarted on the same store, the jobs'
/// ends are recorded from the agents), and an agent SIGKILLed (its node goes down after the heartbeat timeout,
/// its job is requeued and runs on another node).
/// </summary>
public sealed class FailureTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mekong-it-crash-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task Jobs_running_through_a_SIGKILLed_scheduler_are_recorded_after_its_restart()
    {
        var port = Programs.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var tokenFile = Path.Combine(_directory, "admin-token");
        var store = Path.Combine(_directory, "mekong.db");
        string[] serverArgs = ["server", "--store", store, "--listen", $"127.0.0.1:{port}", "--bootstrap-token-file", tokenFile];
        var server = Programs.Start(Programs.MekongDll(), _directory, serverArgs);
        await using var agents = new Agents(_directory);
        try
        {
            await Poll.UntilAsync(() => File.Exists(tokenFile) && new FileInfo(tokenFile).Length > 0 || server.Process.HasExited, "the bootstrap token", 60);
            Assert.False(server.Process.HasExited, server.Error);
            using var api = new ClusterApi(address, (await File.ReadAllTextAsync(tokenFile)).Trim());
            await api.ProjectAsync("lab/train", guarantee: 8);
            var agentToken = await api.AgentTokenAsync();
            agents.Add(address, agentToken, "node-1");
            agents.Add(address, agentToken, "node-2");
            await api.WaitForNodesAsync(2);

            // The jobs wait for a flag the test sets only once the scheduler is dead: they end while it is down.
            var flag = Path.Combine(_directory, "go");
            var ok = await api.SubmitAsync("lab/train", $"echo started; while [ ! -e {flag} ]; do sleep 0.1; done; echo done", gpus: 4);
            var bad = await api.SubmitAsync("lab/train", $"while [ ! -e {flag} ]; do sleep 0.1; done; exit 7", gpus: 4);
            await api.WaitStateAsync(ok.Id, JobState.Running);
            await api.WaitStateAsync(bad.Id, JobState.Running);
            await Poll.UntilAsync(() => agents.All.Sum(a => a.Jobs.Running().Count) == 2, "both processes running");

            server.Kill(); // SIGKILL
            await File.WriteAllTextAsync(flag, "");
            await Poll.UntilAsync(() => agents.All.SelectMany(a => a.Jobs.Jobs()).Count(j => j.IsFinished) == 2, "both jobs ended while the scheduler is down");

            server.Dispose();
            server = Programs.Start(Programs.MekongDll(), _directory, serverArgs);
            await api.WaitReachableAsync();
            var succeeded = await api.WaitAsync(ok.Id, ClusterApi.IsFinal, "recorded after the restart", 60);
            Assert.Equal(JobState.Succeeded, succeeded.State);
            Assert.Equal(0, succeeded.ExitCode);
            Assert.NotNull(succeeded.EndTime);
            var failed = await api.WaitAsync(bad.Id, ClusterApi.IsFinal, "recorded after the restart", 60);
            Assert.Equal(JobState.Failed, failed.State);
            Assert.Equal(7, failed.ExitCode);
            // Output written while the scheduler was down arrives too.
            Assert.Equal("started\ndone\n", await api.LogsAsync(ok.Id));
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    public async Task A_SIGKILLed_agents_node_goes_down_and_its_job_runs_on_another_node()
    {
        await using var cluster = await Cluster.StartAsync(nodes: 0, configure: o => o.HeartbeatTimeout = TimeSpan.FromSeconds(3));
        var api = cluster.Api;
        await api.ProjectAsync("lab/train", guarantee: 8);
        var options = cluster.Agents.Options(cluster.Host.Address, cluster.AgentToken, "doomed");
        using var doomed = Programs.Start(Programs.AgentDll(), _directory,
        [
            "--server", options.Server.ToString(), "--token", options.Token!, "--node", options.NodeName, "--state-dir", options.StateDirectory,
            "--simulate-gpus", "4", "--gpu-type", "h100", "--block", "b0", "--cgroup-parent", options.CgroupParent,
        ]);
        await api.WaitForNodesAsync(1, 60);

        var pids = Path.Combine(_directory, "pids");
        Directory.CreateDirectory(pids);
        var job = await api.SubmitAsync("lab/train",
            $"echo $$ > {pids}/$MEKONG_NODE_NAME; if [ $MEKONG_ATTEMPT = 1 ]; then exec sleep 600; fi; echo attempt $MEKONG_ATTEMPT on $MEKONG_NODE_NAME", gpus: 2);
        var first = await api.WaitStateAsync(job.Id, JobState.Running);
        Assert.Equal("doomed", Assert.Single(first.Allocations).Node);
        var orphan = Path.Combine(pids, "doomed");
        await Poll.UntilAsync(() => File.Exists(orphan) && new FileInfo(orphan).Length > 0, "the first attempt's pid");

        cluster.AddNode("spare");
        await api.WaitForNodesAsync(2);
        doomed.Kill(); // SIGKILL: no goodbye; the scheduler only notices the silence

        var down = await Poll.UntilAsync(async () => (await api.Admin.ListNodesAsync(new ListNodesRequest())).Nodes.Single(n => n.Name == "doomed"),
            n => n.State == Mekong.Api.V1.NodeState.Down, "node doomed down", 30);
        Assert.Equal(Mekong.Api.V1.NodeState.Down, down.State);
        var done = await api.WaitStateAsync(job.Id, JobState.Succeeded, timeoutSeconds: 45);
        Assert.Equal(1u, done.PreemptionCount);
        Assert.Equal("attempt 2 on spare\n", await api.LogsAsync(job.Id, attempt: 2));

        // The dead agent's job outlived it (as a job outlives any agent restart): clean it up.
        Cgroups.Kill(int.Parse(File.ReadAllText(orphan).Trim(), CultureInfo.InvariantCulture));
    }
}
