using System.Net;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mekong.Agent.Tests.Harness;

/// <summary>
/// A small scheduler for tests: AgentService.Connect on real Kestrel (h2c on a loopback port) through
/// Mekong.Transport, one <see cref="FakeSession"/> per stream for the test to drive.
/// </summary>
internal sealed class FakeScheduler : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<FakeSession> _sessions = Channel.CreateUnbounded<FakeSession>();

    private FakeScheduler(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>While false, Connect fails at once with UNAVAILABLE (the scheduler is "down").</summary>
    public volatile bool Accepting = true;

    public static async Task<FakeScheduler> StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var scheduler = new FakeScheduler(app);
        app.MapRpcServices(RpcServiceDefinition.For(AgentServiceRpc.Descriptor).Duplex(AgentServiceRpc.Connect, scheduler.ConnectAsync).Build());
        await app.StartAsync();
        scheduler.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return scheduler;
    }

    /// <summary>The next session an agent opened.</summary>
    public async Task<FakeSession> NextSessionAsync(double timeoutSeconds = 30) =>
        await _sessions.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));

    private async Task ConnectAsync(IAsyncStreamReader<AgentMessage> requests, IServerStreamWriter<SchedulerMessage> responses, CallContext context)
    {
        if (!Accepting)
        {
            throw new RpcException(StatusCode.Unavailable, "scheduler down");
        }

        var session = new FakeSession(context.RequestHeaders.Get("authorization"), responses);
        _sessions.Writer.TryWrite(session);
        var reading = Task.Run(async () =>
        {
            while (await requests.MoveNext(context.CancellationToken))
            {
                session.Received.Writer.TryWrite(requests.Current);
            }
        });
        await Task.WhenAny(reading, session.Ended.Task);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One agent stream as the fake scheduler sees it.</summary>
internal sealed class FakeSession(string? authorization, IServerStreamWriter<SchedulerMessage> writer)
{
    private ulong _sequence;

    public string? Authorization { get; } = authorization;

    public Channel<AgentMessage> Received { get; } = Channel.CreateUnbounded<AgentMessage>();

    /// <summary>Completing it ends the call (the stream closes with OK).</summary>
    public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The next message the agent sent.</summary>
    public async Task<AgentMessage> NextAsync(double timeoutSeconds = 30) =>
        await Received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));

    /// <summary>The next message matching, skipping (and returning in <paramref name="skipped"/>) others.</summary>
    public async Task<AgentMessage> NextAsync(Func<AgentMessage, bool> match, List<AgentMessage>? skipped = null, double timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException("no matching agent message");
            }

            var message = await NextAsync(left.TotalSeconds);
            if (match(message))
            {
                return message;
            }

            skipped?.Add(message);
        }
    }

    public Task<AgentMessage> StateAsync(string jobId, AgentJobState state, List<AgentMessage>? skipped = null) =>
        NextAsync(m => m.JobState is { } s && s.JobId == jobId && s.State == state, skipped);

    /// <summary>Sends a message (one at a time: tests await each send).</summary>
    public async Task<ulong> SendAsync(SchedulerMessage message)
    {
        message.Sequence = Interlocked.Increment(ref _sequence);
        await writer.WriteAsync(message);
        return message.Sequence;
    }

    public Task<ulong> WelcomeAsync(double heartbeatSeconds = 0.1, double usageSeconds = 0.2) => SendAsync(new SchedulerMessage
    {
        Welcome = new Welcome
        {
            SessionId = "s" + Guid.NewGuid().ToString("N")[..6],
            HeartbeatInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(heartbeatSeconds)),
            UsageInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(usageSeconds)),
        },
    });

    /// <summary>Reads Hello and Inventory, then welcomes the agent.</summary>
    public async Task<(Hello Hello, Inventory Inventory)> HandshakeAsync(double heartbeatSeconds = 0.1, double usageSeconds = 0.2)
    {
        var hello = await NextAsync();
        var inventory = await NextAsync();
        Assert.Equal(AgentMessage.BodyOneofCase.Hello, hello.BodyCase);
        Assert.Equal(AgentMessage.BodyOneofCase.Inventory, inventory.BodyCase);
        await WelcomeAsync(heartbeatSeconds, usageSeconds);
        return (hello.Hello, inventory.Inventory);
    }
}
