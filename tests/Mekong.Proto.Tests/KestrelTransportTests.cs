using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Proto.Tests.Demo;
using Mekong.Transport;

namespace Mekong.Proto.Tests;

/// <summary>Our client over a real socket (h2c with prior knowledge) against real Kestrel.</summary>
public sealed class KestrelTransportTests : IAsyncLifetime
{
    private DemoServer _server = null!;
    private RpcChannel _channel = null!;
    private JobServiceClient _jobs = null!;

    public async Task InitializeAsync()
    {
        _server = await DemoServer.StartAsync(kestrel: true);
        _channel = _server.Channel(new RpcChannelOptions { BearerToken = "erin" });
        _jobs = new JobServiceClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    private static SubmitJobRequest Submit(string project) => new()
    {
        Spec = new JobSpec { Project = project, GpusPerNode = 1, Walltime = Duration.FromTimeSpan(TimeSpan.FromMinutes(5)) },
    };

    [Fact]
    public async Task Unary_and_error_statuses_over_h2c()
    {
        var job = (await _jobs.SubmitJobAsync(Submit("k/one"))).Job;
        Assert.Equal("erin", job.User);
        Assert.Equal(job, (await _jobs.GetJobAsync(new GetJobRequest { Id = job.Id })).Job);
        var ex = await Assert.ThrowsAsync<RpcException>(() => _jobs.GetJobAsync(new GetJobRequest { Id = "j-ü" }));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("job j-ü not found", ex.Detail);
    }

    [Fact]
    public async Task Deadline_over_h2c()
    {
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RpcException>(() => _jobs.GetJobAsync(new GetJobRequest { Id = "slow" },
            new CallOptions { Deadline = DateTime.UtcNow.AddMilliseconds(200) }));
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Disposing_a_watch_resets_the_stream_and_cancels_the_handler()
    {
        var before = _server.Jobs.CancelledWatches;
        var watch = _jobs.WatchProject(new WatchProjectRequest { Project = "k/watch" });
        await watch.ResponseHeadersAsync; // sent once the server subscribed
        await _jobs.SubmitJobAsync(Submit("k/watch"));
        Assert.True(await watch.ResponseStream.MoveNext());
        watch.Dispose();
        await GrpcTransportTests.WaitUntil(() => _server.Jobs.CancelledWatches > before);
    }

    [Fact]
    public async Task Many_concurrent_calls_share_the_connection()
    {
        var calls = Enumerable.Range(0, 200).Select(_ => _jobs.SubmitJobAsync(Submit("k/many")));
        var jobs = await Task.WhenAll(calls);
        Assert.Equal(200, jobs.Select(j => j.Job.Id).Distinct().Count());
    }

    [Fact]
    public async Task Bidirectional_stream_over_h2c()
    {
        using var call = new AgentServiceClient(_channel).Connect();
        await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { NodeName = "gpu-07" } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("s-gpu-07", call.ResponseStream.Current.Welcome.SessionId);
        await call.RequestStream.WriteAsync(new AgentMessage { Inventory = new Inventory { Gpus = { new Gpu { Index = 5 } } } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(5u, call.ResponseStream.Current.StartJob.GpuIndices.Single());
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task Kestrel_body_size_limit_is_lifted_for_gRPC_requests()
    {
        // 40 MiB is over Kestrel's default 30 MB request body limit; the transport's own limit rules.
        await using var server = await DemoServer.StartAsync(kestrel: true, o => o.MaxReceiveMessageSize = 64 << 20);
        using var channel = server.Channel(new RpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        var big = Submit("k/big");
        big.Spec.Env.Add("BLOB", new string('x', 40 << 20));
        var job = (await new JobServiceClient(channel).SubmitJobAsync(big)).Job;
        Assert.Equal(40 << 20, job.Spec.Env["BLOB"].Length);
    }

    [Fact]
    public async Task Unreachable_server_is_UNAVAILABLE()
    {
        using var nowhere = new RpcChannel(new Uri("http://127.0.0.1:1"));
        var ex = await Assert.ThrowsAsync<RpcException>(() => new JobServiceClient(nowhere).ListJobsAsync(new ListJobsRequest()));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }
}
