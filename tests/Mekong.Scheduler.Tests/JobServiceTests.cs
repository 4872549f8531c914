using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Tests;

/// <summary>The job API end to end: real server, real store, real HTTP/2 client.</summary>
public sealed class JobServiceTests : IAsyncLifetime
{
    private TestScheduler _s = null!;
    private string _alice = null!;

    public async Task InitializeAsync()
    {
        _s = await TestScheduler.StartAsync();
        _alice = await _s.ProjectWithMemberAsync("uni-a/vision", "alice");
    }

    public async Task DisposeAsync() => await _s.DisposeAsync();

    [Fact]
    public async Task A_submission_is_stored_listed_explained_and_cancelled()
    {
        var jobs = _s.Jobs(_alice);
        var submitted = (await jobs.SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 2, command: ["python", "train.py"]))).Job;
        Assert.Equal(JobState.Pending, submitted.State);
        Assert.Equal("alice", submitted.User);
        Assert.Equal(["python", "train.py"], submitted.Spec.Command);

        var got = (await jobs.GetJobAsync(new GetJobRequest { Id = submitted.Id })).Job;
        Assert.Equal(submitted.Id, got.Id);
        Assert.Equal(2u, got.Spec.GpusPerNode);

        // No node has registered: the full pass says so.
        var explained = await TestScheduler.EventuallyAsync(() => jobs.ExplainJobAsync(new ExplainJobRequest { Id = submitted.Id }),
            e => e.Explanation is { Reason: not PendingReason.Unspecified }, "an explanation");
        Assert.Equal(JobState.Pending, explained.State);
        Assert.Equal("node-type-unavailable", explained.Explanation.ReasonCode);

        var listed = await jobs.ListJobsAsync(new ListJobsRequest { Project = "uni-a" });
        Assert.Contains(listed.Jobs, j => j.Id == submitted.Id && j.Explanation.ReasonCode == "node-type-unavailable");

        var cancelled = (await jobs.CancelJobAsync(new CancelJobRequest { Id = submitted.Id, Reason = "wrong data" })).Job;
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal("alice", cancelled.CancelledBy);
        var again = await Assert.ThrowsAsync<RpcException>(() => jobs.CancelJobAsync(new CancelJobRequest { Id = submitted.Id }));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
        Assert.Equal(JobState.Cancelled, (await jobs.GetJobAsync(new GetJobRequest { Id = submitted.Id })).Job.State);
    }

    [Fact]
    public async Task Who_cancelled_a_job_is_kept_apart_from_the_note_and_survives_a_restart()
    {
        // An admin whose name has a colon: a note "cancelled by svc:ci: wrong data" cannot say where the name ends.
        var ci = (await _s.Admin().IssueTokenAsync(new IssueTokenRequest { User = "svc:ci", Roles = { "admin" } })).Secret;
        var job = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        var cancelled = (await _s.Jobs(ci).CancelJobAsync(new CancelJobRequest { Id = job.Id, Reason = "wrong data" })).Job;
        Assert.Equal(("svc:ci", "cancelled by svc:ci: wrong data"), (cancelled.CancelledBy, cancelled.StateMessage));

        await _s.RestartAsync();
        var read = (await _s.Jobs().GetJobAsync(new GetJobRequest { Id = job.Id })).Job;
        Assert.Equal((JobState.Cancelled, "svc:ci", "cancelled by svc:ci: wrong data"), (read.State, read.CancelledBy, read.StateMessage));
        Assert.Contains((await _s.Jobs().ListJobsAsync(new ListJobsRequest { Project = "uni-a/vision" })).Jobs, j => j.Id == job.Id && j.CancelledBy == "svc:ci");
    }

    [Fact]
    public async Task Listing_pages_newest_first_and_filters_by_state()
    {
        var jobs = _s.Jobs(_alice);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++) ids.Add((await jobs.SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job.Id);
        await jobs.CancelJobAsync(new CancelJobRequest { Id = ids[0] });
        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await jobs.ListJobsAsync(new ListJobsRequest { PageSize = 3, PageToken = token });
            Assert.True(page.Jobs.Count <= 3);
            seen.AddRange(page.Jobs.Select(j => j.Id));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
        var pending = await jobs.ListJobsAsync(new ListJobsRequest { States = { JobState.Pending } });
        Assert.Equal(6, pending.Jobs.Count);
        Assert.Equal(7, (await jobs.ListJobsAsync(new ListJobsRequest { PageSize = 5000 })).Jobs.Count);
        var bad = await Assert.ThrowsAsync<RpcException>(() => jobs.ListJobsAsync(new ListJobsRequest { PageToken = "not-a-token" }));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
    }

    public static TheoryData<string, Action<SubmitJobRequest>, StatusCode, string> BadSubmissions => new()
    {
        { "zero GPUs", r => r.Spec.GpusPerNode = 0, StatusCode.InvalidArgument, "spec.gpus_per_node" },
        { "walltime over the maximum", r => r.Spec.Walltime = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromDays(30)), StatusCode.InvalidArgument, "spec.walltime" },
        { "no walltime", r => r.Spec.Walltime = null, StatusCode.InvalidArgument, "spec.walltime" },
        { "unknown GPU type", r => r.Spec.GpuType = "tpu-v9", StatusCode.InvalidArgument, "spec.gpu_type" },
        { "no command", r => r.Spec.Command.Clear(), StatusCode.InvalidArgument, "spec.command" },
        { "unknown project", r => r.Spec.Project = "uni-a/nowhere", StatusCode.NotFound, "uni-a/nowhere" },
        { "an organisation", r => r.Spec.Project = "uni-a", StatusCode.InvalidArgument, "spec.project" },
        { "no spec", r => r.Spec = null, StatusCode.InvalidArgument, "spec" },
    };

    [Theory]
    [MemberData(nameof(BadSubmissions))]
    public async Task Bad_submissions_are_refused_naming_the_field_and_nothing_is_stored(string name, Action<SubmitJobRequest> spoil, StatusCode code, string mentions)
    {
        var request = TestScheduler.Job("uni-a/vision");
        spoil(request);
        var e = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(_alice).SubmitJobAsync(request));
        Assert.True(e.StatusCode == code, $"{name}: {e.StatusCode} {e.Detail}");
        Assert.Contains(mentions, e.Detail, StringComparison.Ordinal);
        Assert.Empty((await _s.Jobs().ListJobsAsync(new ListJobsRequest())).Jobs);
    }

    [Fact]
    public async Task A_submission_without_walltime_gets_the_centres_default_when_one_is_set()
    {
        await using var s = await TestScheduler.StartAsync(o => o.DefaultWalltime = TimeSpan.FromMinutes(90));
        var alice = await s.ProjectWithMemberAsync("uni-a/vision", "alice");
        var request = TestScheduler.Job("uni-a/vision");
        request.Spec.Walltime = null;
        var job = (await s.Jobs(alice).SubmitJobAsync(request)).Job;
        Assert.Equal(TimeSpan.FromMinutes(90), job.Spec.Walltime.ToTimeSpan());
    }

    [Fact]
    public async Task Shapes_larger_than_the_cluster_are_refused_once_nodes_exist()
    {
        await using var agent = await ScriptedAgent.ConnectAsync(_s.Channel(await AgentTokenAsync()), "gpu-01", gpus: 8);
        await TestScheduler.EventuallyAsync(() => _s.Admin().ListNodesAsync(new ListNodesRequest()), r => r.Nodes.Count == 1, "the node");
        var gang = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 8, nodes: 2, gpuType: "h100")));
        Assert.Equal(StatusCode.InvalidArgument, gang.StatusCode);
        Assert.Contains("spec.nodes", gang.Detail, StringComparison.Ordinal);
        var wide = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 16)));
        Assert.Contains("spec.gpus_per_node", wide.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Members_act_only_in_their_projects_and_see_only_their_projects_jobs()
    {
        var bob = await _s.ProjectWithMemberAsync("gov-b/weather", "bob");
        var alicesJob = (await _s.Jobs(_alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;

        var denied = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(bob).SubmitJobAsync(TestScheduler.Job("uni-a/vision")));
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var hidden = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(bob).GetJobAsync(new GetJobRequest { Id = alicesJob.Id }));
        Assert.Equal(StatusCode.NotFound, hidden.StatusCode);
        await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(bob).CancelJobAsync(new CancelJobRequest { Id = alicesJob.Id }));
        Assert.Empty((await _s.Jobs(bob).ListJobsAsync(new ListJobsRequest())).Jobs);
        Assert.Single((await _s.Jobs(_alice).ListJobsAsync(new ListJobsRequest())).Jobs);

        var notAdmin = await Assert.ThrowsAsync<RpcException>(() => _s.Admin(bob).SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "gov-b/x" } }));
        Assert.Equal(StatusCode.PermissionDenied, notAdmin.StatusCode);
        var drain = await Assert.ThrowsAsync<RpcException>(() => _s.Admin(bob).DrainNodeAsync(new DrainNodeRequest { Name = "gpu-01" }));
        Assert.Equal(StatusCode.PermissionDenied, drain.StatusCode);
        // Aggregates are open to every user.
        Assert.Contains((await _s.Admin(bob).GetAccountTreeAsync(new GetAccountTreeRequest())).Accounts, a => a.Path == "uni-a/vision");
    }

    [Fact]
    public async Task Calls_without_a_valid_token_are_unauthenticated_and_revoked_tokens_stop_working()
    {
        var none = await Assert.ThrowsAsync<RpcException>(() => new JobServiceClient(new RpcChannel(_s.Host.Address)).ListJobsAsync(new ListJobsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs("not-a-token").ListJobsAsync(new ListJobsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);

        var issued = await _s.Admin().IssueTokenAsync(new IssueTokenRequest { User = "alice", Description = "laptop" });
        await _s.Jobs(issued.Secret).ListJobsAsync(new ListJobsRequest());
        var listed = await _s.Admin().ListTokensAsync(new ListTokensRequest { User = "alice" });
        Assert.Contains(listed.Tokens, t => t.Id == issued.Token.Id && t.Description == "laptop");
        await _s.Admin().RevokeTokenAsync(new RevokeTokenRequest { Id = issued.Token.Id });
        var revoked = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(issued.Secret).ListJobsAsync(new ListJobsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, revoked.StatusCode);
    }

    [Fact]
    public async Task An_oversize_request_is_resource_exhausted()
    {
        var request = TestScheduler.Job("uni-a/vision");
        request.Spec.Env["BLOB"] = new string('x', 5 * 1024 * 1024);
        var e = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(_alice).SubmitJobAsync(request));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    [Fact]
    public async Task A_retried_submission_with_the_same_request_id_returns_the_first_job()
    {
        var request = TestScheduler.Job("uni-a/vision");
        request.RequestId = "retry-1";
        var first = (await _s.Jobs(_alice).SubmitJobAsync(request)).Job;
        var second = (await _s.Jobs(_alice).SubmitJobAsync(request)).Job;
        Assert.Equal(first.Id, second.Id);
        Assert.Single((await _s.Jobs().ListJobsAsync(new ListJobsRequest())).Jobs);
    }

    [Fact]
    public async Task A_watch_sees_the_snapshot_then_every_change_until_the_job_ends()
    {
        var jobs = _s.Jobs(_alice);
        var job = (await jobs.SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        using var watch = jobs.WatchJob(new WatchJobRequest { Id = job.Id });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(JobEventType.Snapshot, watch.ResponseStream.Current.Type);
        await jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(JobEventType.StateChanged, watch.ResponseStream.Current.Type);
        Assert.Equal(JobState.Cancelled, watch.ResponseStream.Current.Job.State);
        Assert.Equal(JobState.Pending, watch.ResponseStream.Current.PreviousState);
        Assert.False(await watch.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task Json_over_http1_reaches_the_same_handlers()
    {
        await using var s = await TestScheduler.StartAsync(o => o.HttpListen = "127.0.0.1:0");
        var token = await s.ProjectWithMemberAsync("uni-a/nlp", "carol");
        using var http = new HttpClient { BaseAddress = s.Host.HttpAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var body = """{"spec":{"project":"uni-a/nlp","gpusPerNode":1,"walltime":"3600s","command":["echo","hi"]}}""";
        var response = await http.PostAsync("/api/v1/JobService/SubmitJob", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var job = Google.Protobuf.JsonParser.Default.Parse<SubmitJobResponse>(text).Job;
        Assert.Equal("carol", job.User);
        var malformed = await http.PostAsync("/api/v1/JobService/SubmitJob", new StringContent("{\"spec\":", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("INVALID_ARGUMENT", await malformed.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<string> AgentTokenAsync() =>
        (await _s.Admin().IssueTokenAsync(new IssueTokenRequest { User = "agent", Roles = { "agent" } })).Secret;
}
