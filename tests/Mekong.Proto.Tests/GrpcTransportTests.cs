using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Proto.Tests.Demo;
using Mekong.Transport;

namespace Mekong.Proto.Tests;

/// <summary>gRPC over HTTP/2 in process: our client against our server through TestServer.</summary>
public sealed class GrpcTransportTests : IAsyncLifetime
{
    private DemoServer _server = null!;
    private RpcChannel _channel = null!;
    private JobServiceClient _jobs = null!;

    public async Task InitializeAsync()
    {
        _server = await DemoServer.StartAsync(kestrel: false, o => o.MaxReceiveMessageSize = 64 * 1024);
        _channel = _server.Channel(new RpcChannelOptions { BearerToken = "alice" });
        _jobs = new JobServiceClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    private static SubmitJobRequest Submit(string project = "uni-a/vision", uint gpus = 8) => new()
    {
        Spec = new JobSpec
        {
            Project = project,
            Name = "train",
            GpusPerNode = gpus,
            GpuType = "h100",
            Walltime = Duration.FromTimeSpan(TimeSpan.FromHours(2)),
            Command = { "python", "train.py" },
        },
    };

    [Fact]
    public async Task Unary_calls_round_trip_messages_and_metadata()
    {
        var submitted = await _jobs.SubmitJobAsync(Submit());
        Assert.Equal("alice", submitted.Job.User); // bearer token reached the handler as metadata
        Assert.Equal(JobState.Pending, submitted.Job.State);

        var got = await _jobs.GetJobAsync(new GetJobRequest { Id = submitted.Job.Id });
        Assert.Equal(submitted.Job, got.Job);

        var explained = await _jobs.ExplainJobAsync(new ExplainJobRequest { Id = submitted.Job.Id });
        Assert.Equal("quota-limit", explained.Explanation.ReasonCode);
        Assert.Equal(8, explained.Explanation.GpusRequested);
    }

    [Fact]
    public async Task List_filters_and_pages()
    {
        for (var i = 0; i < 5; i++)
        {
            await _jobs.SubmitJobAsync(Submit("uni-b/nlp"));
        }

        await _jobs.SubmitJobAsync(Submit("uni-c/bio"));
        var first = await _jobs.ListJobsAsync(new ListJobsRequest { Project = "uni-b", PageSize = 3 });
        Assert.Equal(3, first.Jobs.Count);
        Assert.NotEmpty(first.NextPageToken);
        var second = await _jobs.ListJobsAsync(new ListJobsRequest { Project = "uni-b", PageSize = 3, PageToken = first.NextPageToken });
        Assert.Equal(2, second.Jobs.Count);
        Assert.Empty(second.NextPageToken);
        Assert.All(first.Jobs.Concat(second.Jobs), j => Assert.Equal("uni-b/nlp", j.Spec.Project));
    }

    [Fact]
    public async Task Error_status_carries_code_and_percent_encoded_message()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _jobs.GetJobAsync(new GetJobRequest { Id = "j-ünïcode 100%" }));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("job j-ünïcode 100% not found", ex.Detail);

        var invalid = await Assert.ThrowsAsync<RpcException>(() => _jobs.SubmitJobAsync(Submit(gpus: 0)));
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("gpus_per_node", invalid.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handler_exception_is_UNKNOWN_without_leaking_details_by_default()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _jobs.SubmitJobAsync(Submit("boom")));
        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.DoesNotContain("exploded", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_finished_job_is_FAILED_PRECONDITION()
    {
        var job = (await _jobs.SubmitJobAsync(Submit())).Job;
        var cancelled = await _jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id, Reason = "not needed" });
        Assert.Equal(JobState.Cancelled, cancelled.Job.State);
        Assert.Equal("alice", cancelled.Job.CancelledBy);
        var again = await Assert.ThrowsAsync<RpcException>(() => _jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id }));
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
    }

    [Fact]
    public async Task Server_streaming_delivers_each_event_as_it_happens_and_ends_with_OK()
    {
        var job = (await _jobs.SubmitJobAsync(Submit())).Job;
        using var watch = _jobs.WatchJob(new WatchJobRequest { Id = job.Id });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(JobEventType.Snapshot, watch.ResponseStream.Current.Type);

        // The snapshot arrived before the job changed: the server flushed it on its own.
        await _jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(JobEventType.StateChanged, watch.ResponseStream.Current.Type);
        Assert.Equal(JobState.Cancelled, watch.ResponseStream.Current.Job.State);
        Assert.Equal(JobState.Pending, watch.ResponseStream.Current.PreviousState);
        Assert.False(await watch.ResponseStream.MoveNext());
        Assert.Equal("0", watch.GetTrailers().Get("grpc-status"));
    }

    [Fact]
    public async Task Streaming_error_before_any_message_is_a_trailers_only_response()
    {
        using var watch = _jobs.WatchJob(new WatchJobRequest { Id = "j-missing" });
        var ex = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        var headers = await watch.ResponseHeadersAsync;
        Assert.Equal("5", headers.Get("grpc-status")); // in the headers: trailers-only
    }

    [Fact]
    public async Task Cancelling_a_stream_midway_cancels_the_handler()
    {
        using var cts = new CancellationTokenSource();
        var watch = _jobs.WatchProject(new WatchProjectRequest { Project = "uni-d/cv" }, new CallOptions { CancellationToken = cts.Token });
        await WaitUntil(() => _server.Jobs.ActiveWatches == 1);
        await _jobs.SubmitJobAsync(Submit("uni-d/cv"));
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(JobEventType.Submitted, watch.ResponseStream.Current.Type);

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        watch.Dispose();
        await WaitUntil(() => _server.Jobs.CancelledWatches == 1 && _server.Jobs.ActiveWatches == 0);
    }

    [Fact]
    public async Task Deadline_cancels_the_handler_and_answers_DEADLINE_EXCEEDED()
    {
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RpcException>(() => _jobs.GetJobAsync(new GetJobRequest { Id = "slow" },
            new CallOptions { Deadline = DateTime.UtcNow.AddMilliseconds(200) }));
        Assert.True(StatusCode.DeadlineExceeded == ex.StatusCode, ex.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData(false, "slow")]
    [InlineData(true, "slow")]
    // TestServer delivers a response only when the request delegate returns, so the case of a
    // handler that ignores its token runs on Kestrel only.
    [InlineData(true, "stubborn")]
    public async Task Server_enforces_grpc_timeout_even_when_the_handler_ignores_its_token(bool kestrel, string id)
    {
        // A raw request, so that only the server's deadline can end the call.
        await using var server = kestrel ? await DemoServer.StartAsync(kestrel: true) : null;
        using var client = server is null ? _server.TestServer.CreateClient() : new HttpClient { BaseAddress = server.Address };
        using var request = RawGrpc.Request("/mekong.v1.JobService/GetJob", RawGrpc.Frame(new GetJobRequest { Id = id }));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "100m");
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.ReadAsByteArrayAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.4), $"took {clock.Elapsed}");
        Assert.Equal("4", RawGrpc.Status(response));
    }

    [Fact]
    public async Task Oversize_request_is_RESOURCE_EXHAUSTED()
    {
        var big = Submit();
        big.Spec.Env.Add("BLOB", new string('x', 100 * 1024));
        var ex = await Assert.ThrowsAsync<RpcException>(() => _jobs.SubmitJobAsync(big));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("larger than max", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversize_response_is_RESOURCE_EXHAUSTED_on_the_client()
    {
        var big = Submit();
        big.Spec.Env.Add("BLOB", new string('x', 40 * 1024));
        var job = (await _jobs.SubmitJobAsync(big)).Job;
        using var small = _server.Channel(new RpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => new JobServiceClient(small).GetJobAsync(new GetJobRequest { Id = job.Id }));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Unknown_method_is_UNIMPLEMENTED()
    {
        var nope = new Method<GetJobRequest, GetJobResponse>(JobServiceRpc.Descriptor, "GetJob");
        using var client = _server.TestServer.CreateClient();
        using var request = RawGrpc.Request("/mekong.v1.JobService/Nope", RawGrpc.Frame(new GetJobRequest { Id = "x" }));
        using var response = await client.SendAsync(request);
        Assert.Equal("12", RawGrpc.Status(response));

        using var unknownService = RawGrpc.Request("/mekong.v1.NoSuchService/GetJob", RawGrpc.Frame(new GetJobRequest()));
        using var response2 = await client.SendAsync(unknownService);
        Assert.Equal("12", RawGrpc.Status(response2));
        Assert.NotNull(nope);
    }

    [Fact]
    public async Task Unregistered_method_of_a_known_service_is_UNIMPLEMENTED_through_the_client()
    {
        // AdminService is not mapped on the demo server at all.
        var ex = await Assert.ThrowsAsync<RpcException>(() => new AdminServiceClient(_channel).ListNodesAsync(new ListNodesRequest()));
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Malformed_protobuf_is_INVALID_ARGUMENT_with_a_clear_message()
    {
        using var client = _server.TestServer.CreateClient();
        // Field 1 (id, a string) declared 100 bytes long with 3 bytes present.
        using var request = RawGrpc.Request("/mekong.v1.JobService/GetJob", RawGrpc.FrameBytes([0x0A, 100, 1, 2, 3]));
        using var response = await client.SendAsync(request);
        Assert.Equal("3", RawGrpc.Status(response));
        Assert.Contains("GetJobRequest", RawGrpc.Message(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task gRPC_over_HTTP_1_1_is_refused_with_426()
    {
        using var client = _server.TestServer.CreateClient();
        using var request = RawGrpc.Request("/mekong.v1.JobService/GetJob", RawGrpc.Frame(new GetJobRequest { Id = "x" }));
        request.Version = System.Net.HttpVersion.Version11;
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.UpgradeRequired, response.StatusCode);
    }

    [Fact]
    public async Task Truncated_frame_and_compressed_flag_are_rejected()
    {
        using var client = _server.TestServer.CreateClient();
        var frame = RawGrpc.Frame(new GetJobRequest { Id = "x" });
        using var truncated = RawGrpc.Request("/mekong.v1.JobService/GetJob", frame[..^1]);
        using var response = await client.SendAsync(truncated);
        Assert.Equal("13", RawGrpc.Status(response));

        frame[0] = 1;
        using var compressed = RawGrpc.Request("/mekong.v1.JobService/GetJob", frame);
        using var response2 = await client.SendAsync(compressed);
        Assert.Equal("12", RawGrpc.Status(response2));
    }

    [Fact]
    public async Task Bidirectional_stream_answers_while_the_client_still_writes()
    {
        using var call = new AgentServiceClient(_channel).Connect();
        await call.RequestStream.WriteAsync(new AgentMessage { Sequence = 1, Hello = new Hello { NodeName = "gpu-01" } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("s-gpu-01", call.ResponseStream.Current.Welcome.SessionId);

        await call.RequestStream.WriteAsync(new AgentMessage
        {
            Sequence = 2,
            Inventory = new Inventory { Gpus = { new Gpu { Index = 3, Uuid = "GPU-1", Model = "NVIDIA H100", MemoryBytes = 80UL << 30 } } },
        });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(3u, call.ResponseStream.Current.StartJob.GpuIndices.Single());

        await call.RequestStream.WriteAsync(new AgentMessage { Sequence = 3, JobState = new JobStateChange { JobId = "j-000001", State = AgentJobState.Exited } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("j-000001", call.ResponseStream.Current.StopJob.JobId);

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task Response_trailers_from_the_handler_reach_the_client()
    {
        using var client = _server.TestServer.CreateClient();
        using var request = RawGrpc.Request("/mekong.v1.JobService/SubmitJob", RawGrpc.Frame(Submit()));
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("0", RawGrpc.Status(response));
        Assert.StartsWith("j-", response.TrailingHeaders.GetValues("x-demo-job-id").Single(), StringComparison.Ordinal);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                Assert.Fail("condition not reached within 5 s");
            }

            await Task.Delay(10);
        }
    }
}
