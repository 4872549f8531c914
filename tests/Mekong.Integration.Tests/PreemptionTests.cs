using Mekong.Api.V1;
using Mekong.Integration.Tests.Harness;

namespace Mekong.Integration.Tests;

/// <summary>
/// Guarantee reclaim with real processes: a borrower fills a 4-GPU node that another project is guaranteed;
/// when the owner submits, the borrower gets SIGTERM, writes a checkpoint in its grace period, is requeued
/// (PREEMPTED), and runs again — on the same node, where its working directory kept the checkpoint.
/// </summary>
public sealed class PreemptionTests : IAsyncLifetime
{
    private Cluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await Cluster.StartAsync(nodes: 1, gpus: 4);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_preempted_borrower_checkpoints_in_its_grace_period_and_runs_again()
    {
        var api = _cluster.Api;
        await api.ProjectAsync("owner/p", guarantee: 4);
        await api.ProjectAsync("borrower/p", guarantee: 0);

        const string script = """
            if [ -f ckpt ]; then echo "resumed from $(cat ckpt) on attempt $MEKONG_ATTEMPT"; exit 0; fi
            trap 'echo step-42 > ckpt; echo checkpointed; exit 0' TERM
            echo started
            while true; do sleep 0.1; done
            """;
        var borrower = await api.SubmitAsync("borrower/p", script, gpus: 4, grace: TimeSpan.FromSeconds(20), preemptible: true);
        var running = await api.WaitStateAsync(borrower.Id, JobState.Running);
        Assert.True(running.Borrowing);
        await Poll.UntilAsync(() => api.LogsAsync(borrower.Id), l => l.Contains("started", StringComparison.Ordinal), "the borrower's trap installed");

        // Every state the borrower passes through, as a watcher sees it.
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var states = new List<JobState>();
        using var watch = api.Jobs.WatchJob(new WatchJobRequest { Id = borrower.Id });
        var watcher = Task.Run(async () =>
        {
            while (await watch.ResponseStream.MoveNext(watching.Token))
                lock (states) states.Add(watch.ResponseStream.Current.Job.State);
        });

        var owner = await api.SubmitAsync("owner/p", "echo owner on $CUDA_VISIBLE_DEVICES", gpus: 4);
        var ownerDone = await api.WaitStateAsync(owner.Id, JobState.Succeeded, timeoutSeconds: 45);
        Assert.False(ownerDone.Borrowing);

        var done = await api.WaitStateAsync(borrower.Id, JobState.Succeeded, timeoutSeconds: 45);
        Assert.Equal(1u, done.PreemptionCount);
        Assert.Equal(borrower.SubmitTime, done.SubmitTime);
        Assert.Equal("started\ncheckpointed\n", await api.LogsAsync(borrower.Id, attempt: 1));
        Assert.Equal("resumed from step-42 on attempt 2\n", await api.LogsAsync(borrower.Id, attempt: 2));

        await watcher.WaitAsync(TimeSpan.FromSeconds(30));
        lock (states)
        {
            var preempted = states.IndexOf(JobState.Preempted);
            Assert.True(preempted > 0, string.Join(", ", states));
            Assert.Contains(JobState.Running, states.Skip(preempted));
            Assert.Equal(JobState.Succeeded, states[^1]);
        }
    }
}
