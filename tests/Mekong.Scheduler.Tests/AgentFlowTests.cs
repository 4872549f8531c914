using Mekong.Api.V1;

namespace Mekong.Scheduler.Tests;

/// <summary>Jobs through their lifecycle with agents on the real agent stream: start commands, reports,
/// gangs, cancellation, preemption, lost nodes and restarts.</summary>
public sealed class AgentFlowTests : IAsyncLifetime
{
    private TestScheduler _s = null!;
    private string _alice = null!;
    private string _agentToken = null!;

    public async Task InitializeAsync()
    {
        _s = await TestScheduler.StartAsync(o => o.HeartbeatTimeout = TimeSpan.FromSeconds(2));
        _alice = await _s.ProjectWithMemberAsync("uni-a/vision", "alice", guarantee: 8);
        _agentToken = (await _s.Admin().IssueTokenAsync(new IssueTokenRequest { User = "agents", Roles = { "agent" } })).Secret;
    }

    public async Task DisposeAsync() => await _s.DisposeAsync();

    private Task<ScriptedAgent> AgentAsync(string node, int gpus = 8, string block = "b0", params RunningJob[] running) =>
        ScriptedAgent.ConnectAsync(_s.Channel(_agentToken), node, gpus, "h100", block, running);

    private Task<Job> JobAsync(string id) => _s.Jobs().GetJobAsync(new GetJobRequest { Id = id }).ContinueWith(t => t.Result.Job);

    private Task<Job> EventuallyAsync(string id, JobState state) =>
        TestScheduler.EventuallyAsync(() => JobAsync(id), j => j.State == state, $"job {id} {state}");

    [Fact]
    public async Task A_job_is_started_on_an_agent_and_its_exit_recorded()
    {
        await using var agent = await AgentAsync("gpu-01");
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 2, command: ["python", "train.py"]))).Job;
        var start = (await agent.NextAsync(m => m.StartJob is not null)).StartJob;
        Assert.Equal(job.Id, start.JobId);
        Assert.Equal(2, start.GpuIndices.Count);
        Assert.Equal(["python", "train.py"], start.Command);
        Assert.Equal("alice", start.User);
        Assert.Null(start.Gang);
        var running = await EventuallyAsync(job.Id, JobState.Running);
        Assert.Equal("gpu-01", Assert.Single(running.Allocations).Node);
        Assert.Equal(start.GpuIndices, running.Allocations[0].GpuIndices);

        await agent.ReportAsync(job.Id, start.Attempt, AgentJobState.Running);
        await agent.ReportAsync(job.Id, start.Attempt, AgentJobState.Exited, exitCode: 0);
        var done = await EventuallyAsync(job.Id, JobState.Succeeded);
        Assert.NotNull(done.EndTime);

        var failing = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        var second = (await agent.NextAsync(m => m.StartJob?.JobId == failing.Id)).StartJob;
        await agent.ReportAsync(failing.Id, second.Attempt, AgentJobState.Exited, exitCode: 3);
        var failed = await EventuallyAsync(failing.Id, JobState.Failed);
        Assert.Equal(3, failed.ExitCode);
    }

    [Fact]
    public async Task Stopping_the_scheduler_ends_agent_sessions_instead_of_waiting_for_them()
    {
        await using var agent = await AgentAsync("gpu-01");
        await TestScheduler.EventuallyAsync(() => _s.Admin().ListNodesAsync(new ListNodesRequest()), r => r.Nodes.Count == 1, "the node");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await _s.Host.DisposeAsync();
        // Kestrel's shutdown timeout is 30 s; an open agent stream must not hold the stop that long.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_gang_gets_consistent_ranks_on_whole_nodes_and_ends_when_every_rank_has()
    {
        await using var a = await AgentAsync("gpu-01");
        await using var b = await AgentAsync("gpu-02");
        await TestScheduler.EventuallyAsync(() => _s.Admin().ListNodesAsync(new ListNodesRequest()), r => r.Nodes.Count == 2, "both nodes");
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 4, nodes: 2, gpuType: "h100"))).Job;
        var s1 = (await a.NextAsync(m => m.StartJob is not null)).StartJob;
        var s2 = (await b.NextAsync(m => m.StartJob is not null)).StartJob;
        Assert.Equal(2u, s1.Gang.Size);
        Assert.Equal(new[] { 0u, 1u }, new[] { s1.Gang.Rank, s2.Gang.Rank }.Order());
        Assert.Equal(s1.Gang.MasterAddr, s2.Gang.MasterAddr);
        Assert.Equal(s1.Gang.MasterPort, s2.Gang.MasterPort);
        Assert.Equal(s1.Gang.NodeNames, s2.Gang.NodeNames);

        await a.ReportAsync(job.Id, s1.Attempt, AgentJobState.Exited);
        await Task.Delay(300);
        Assert.Equal(JobState.Running, (await JobAsync(job.Id)).State);
        await b.ReportAsync(job.Id, s2.Attempt, AgentJobState.Exited);
        await EventuallyAsync(job.Id, JobState.Succeeded);
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_on_its_node_and_frees_its_GPUs_when_it_exits()
    {
        await using var agent = await AgentAsync("gpu-01", gpus: 4);
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 4))).Job;
        var start = (await agent.NextAsync(m => m.StartJob is not null)).StartJob;
        await EventuallyAsync(job.Id, JobState.Running);
        var next = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 4))).Job;

        var cancelled = (await _s.Jobs(_alice).CancelJobAsync(new CancelJobRequest { Id = job.Id })).Job;
        Assert.Equal(JobState.Cancelled, cancelled.State);
        var stop = (await agent.NextAsync(m => m.StopJob is not null)).StopJob;
        Assert.Equal(StopReason.Cancelled, stop.Reason);
        Assert.Equal(5, stop.GracePeriod.Seconds);
        // The GPUs are still held until the process is gone.
        await Task.Delay(300);
        Assert.Equal(JobState.Pending, (await JobAsync(next.Id)).State);
        await agent.ReportAsync(job.Id, start.Attempt, AgentJobState.Stopped, exitCode: 143);
        await agent.NextAsync(m => m.StartJob?.JobId == next.Id);
        Assert.Equal(JobState.Cancelled, (await JobAsync(job.Id)).State);
    }

    [Fact]
    public async Task A_guaranteed_job_preempts_a_borrower_which_is_requeued_with_its_place()
    {
        var bob = await _s.ProjectWithMemberAsync("gov-b/weather", "bob", guarantee: 0);
        await using var agent = await AgentAsync("gpu-01", gpus: 8);
        // Bob borrows the whole node (his guarantee is 0, Alice's 8 lies idle).
        var borrower = (await _s.Jobs(bob).SubmitJobAsync(TestScheduler.Job("gov-b/weather", gpus: 8))).Job;
        var first = (await agent.NextAsync(m => m.StartJob?.JobId == borrower.Id)).StartJob;
        Assert.True((await EventuallyAsync(borrower.Id, JobState.Running)).Borrowing);

        var owner = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 8))).Job;
        var stop = (await agent.NextAsync(m => m.StopJob?.JobId == borrower.Id)).StopJob;
        Assert.Equal(StopReason.Preempted, stop.Reason);
        await agent.ReportAsync(borrower.Id, first.Attempt, AgentJobState.Stopped, exitCode: 143);

        var reclaimed = (await agent.NextAsync(m => m.StartJob?.JobId == owner.Id)).StartJob;
        Assert.NotNull(reclaimed);
        var requeued = await EventuallyAsync(borrower.Id, JobState.Preempted);
        Assert.Equal(1u, requeued.PreemptionCount);
        Assert.Equal(borrower.SubmitTime, requeued.SubmitTime);
    }

    [Fact]
    public async Task A_silent_node_goes_down_and_its_job_is_requeued_and_runs_elsewhere()
    {
        var hung = await AgentAsync("gpu-01", gpus: 8);
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 8))).Job;
        var first = (await hung.NextAsync(m => m.StartJob is not null)).StartJob;
        await EventuallyAsync(job.Id, JobState.Running);
        await using var spare = await AgentAsync("gpu-02", gpus: 8);
        await hung.HangAsync();

        var restart = (await spare.NextAsync(m => m.StartJob?.JobId == job.Id, timeoutMs: 15_000)).StartJob;
        Assert.True(restart.Attempt > first.Attempt);
        var nodes = await _s.Admin().ListNodesAsync(new ListNodesRequest());
        Assert.Equal(NodeState.Down, nodes.Nodes.Single(n => n.Name == "gpu-01").State);
        var running = await EventuallyAsync(job.Id, JobState.Running);
        Assert.Equal("gpu-02", running.Allocations[0].Node);
        await hung.DisposeAsync();
    }

    [Fact]
    public async Task After_a_scheduler_restart_a_reconnecting_agent_keeps_its_jobs_and_unknown_ones_are_stopped()
    {
        var agent = await AgentAsync("gpu-01", gpus: 8);
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 2))).Job;
        var start = (await agent.NextAsync(m => m.StartJob is not null)).StartJob;
        await EventuallyAsync(job.Id, JobState.Running);
        await agent.DisposeAsync();

        await _s.RestartAsync();
        Assert.Equal(JobState.Running, (await JobAsync(job.Id)).State);
        var agentToken = _agentToken;
        await using var back = await ScriptedAgent.ConnectAsync(_s.Channel(agentToken), "gpu-01", 8, "h100", "b0",
            new RunningJob { JobId = job.Id, Attempt = start.Attempt, GpuIndices = { start.GpuIndices } },
            new RunningJob { JobId = "999999", Attempt = 1 });
        var stop = (await back.NextAsync(m => m.StopJob is not null)).StopJob;
        Assert.Equal("999999", stop.JobId);
        Assert.Equal(StopReason.UnknownJob, stop.Reason);
        await back.ReportAsync(job.Id, start.Attempt, AgentJobState.Exited);
        await EventuallyAsync(job.Id, JobState.Succeeded);
    }

    [Fact]
    public async Task Draining_a_node_keeps_new_jobs_off_it_until_it_is_resumed()
    {
        await using var agent = await AgentAsync("gpu-01", gpus: 8);
        await TestScheduler.EventuallyAsync(() => _s.Admin().ListNodesAsync(new ListNodesRequest()), r => r.Nodes.Count == 1, "the node");
        var drained = (await _s.Admin().DrainNodeAsync(new DrainNodeRequest { Name = "gpu-01", Reason = "firmware" })).Node;
        Assert.Equal(NodeState.Draining, drained.State);
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        await Task.Delay(500);
        Assert.Equal(JobState.Pending, (await JobAsync(job.Id)).State);
        var listed = (await _s.Admin().ListNodesAsync(new ListNodesRequest())).Nodes.Single();
        Assert.Equal("firmware", listed.DrainReason);
        await _s.Admin().ResumeNodeAsync(new ResumeNodeRequest { Name = "gpu-01" });
        await agent.NextAsync(m => m.StartJob?.JobId == job.Id);
    }

    [Fact]
    public async Task Output_forwarded_by_the_agent_is_kept_per_stream_and_followed_until_the_run_ends()
    {
        await using var agent = await AgentAsync("gpu-01");
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        var start = (await agent.NextAsync(m => m.StartJob is not null)).StartJob;
        await EventuallyAsync(job.Id, JobState.Running);
        await agent.SendAsync(Log(job.Id, start.Attempt, LogStream.Stdout, 0, "epoch 1\n"));
        await agent.SendAsync(Log(job.Id, start.Attempt, LogStream.Stderr, 0, "warning\n"));
        // A replay after a reconnect overlaps what arrived: only the new bytes are kept.
        await agent.SendAsync(Log(job.Id, start.Attempt, LogStream.Stdout, 0, "epoch 1\nepoch 2\n"));

        using var follow = _s.Jobs(_alice).ReadJobLogs(new ReadJobLogsRequest { Id = job.Id, Follow = true });
        var text = new System.Text.StringBuilder();
        while (!text.ToString().Contains("epoch 2", StringComparison.Ordinal) && await follow.ResponseStream.MoveNext())
            text.Append(follow.ResponseStream.Current.Data.ToStringUtf8());
        Assert.Equal("epoch 1\nepoch 2\n", text.ToString());

        await agent.SendAsync(Log(job.Id, start.Attempt, LogStream.Stdout, 16, "done\n"));
        await agent.SendAsync(new AgentMessage { Usage = new UsageReport { Samples = { new UsageSample { JobId = job.Id, Attempt = start.Attempt, CpuSeconds = 12.5, MemoryBytes = 1 << 30, Gpus = { new GpuUsage { Index = 0, UtilizationPercent = 80 } } } } } });
        var usage = await TestScheduler.EventuallyAsync(() => JobAsync(job.Id), j => j.Usage is not null, "usage");
        Assert.Equal(12.5, usage.Usage.CpuSeconds);
        Assert.Equal(80f, usage.Usage.GpuUtilizationPercent);
        await agent.ReportAsync(job.Id, start.Attempt, AgentJobState.Exited);
        while (await follow.ResponseStream.MoveNext()) text.Append(follow.ResponseStream.Current.Data.ToStringUtf8());
        Assert.Equal("epoch 1\nepoch 2\ndone\n", text.ToString()); // the follow ended with the run

        using var stderr = _s.Jobs(_alice).ReadJobLogs(new ReadJobLogsRequest { Id = job.Id, Stream = OutputStream.Stderr });
        Assert.True(await stderr.ResponseStream.MoveNext());
        Assert.Equal("warning\n", stderr.ResponseStream.Current.Data.ToStringUtf8());
        Assert.False(await stderr.ResponseStream.MoveNext());
    }

    private static AgentMessage Log(string job, uint attempt, LogStream stream, ulong offset, string text) =>
        new() { Log = new LogChunk { JobId = job, Attempt = attempt, Stream = stream, Offset = offset, Data = Google.Protobuf.ByteString.CopyFromUtf8(text) } };
}
