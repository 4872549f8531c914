using System.Threading.Channels;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Tests;

/// <summary>A node agent played by the test over the real agent stream: it registers, heartbeats, and reports
/// job states when the test says so. Commands it receives are queued for the test to inspect.</summary>
internal sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly DuplexStreamingCall<AgentMessage, SchedulerMessage> _call;
    private readonly Channel<SchedulerMessage> _received = Channel.CreateUnbounded<SchedulerMessage>();
    private readonly Task _reader;
    private readonly CancellationTokenSource _stop = new();
    private Task _heartbeats = Task.CompletedTask;
    private readonly SemaphoreSlim _send = new(1, 1);
    private ulong _sequence;

    private ScriptedAgent(string node, DuplexStreamingCall<AgentMessage, SchedulerMessage> call)
    {
        Node = node;
        _call = call;
        _reader = ReadAsync();
    }

    public string Node { get; }

    public ChannelReader<SchedulerMessage> Received => _received.Reader;

    public static async Task<ScriptedAgent> ConnectAsync(RpcChannel channel, string node, int gpus = 8, string gpuType = "h100", string block = "b0",
        params RunningJob[] running)
    {
        var call = new AgentServiceClient(channel).Connect();
        var agent = new ScriptedAgent(node, call);
        await agent.SendAsync(new AgentMessage { Hello = new Hello { NodeName = node, AgentVersion = "test" } });
        var inventory = new Inventory { CpuCores = 64, MemoryBytes = 512UL << 30, TopologyBlock = block };
        for (var i = 0; i < gpus; i++) inventory.Gpus.Add(new Gpu { Index = (uint)i, GpuType = gpuType, Healthy = true });
        inventory.RunningJobs.AddRange(running);
        await agent.SendAsync(new AgentMessage { Inventory = inventory });
        agent._heartbeats = agent.HeartbeatAsync();
        var welcome = await agent.NextAsync(m => m.Welcome is not null);
        Assert.NotNull(welcome.Welcome);
        return agent;
    }

    public async Task SendAsync(AgentMessage message)
    {
        await _send.WaitAsync();
        try
        {
            message.Sequence = ++_sequence;
            await _call.RequestStream.WriteAsync(message);
        }
        finally
        {
            _send.Release();
        }
    }

    public Task ReportAsync(string jobId, uint attempt, AgentJobState state, int exitCode = 0) =>
        SendAsync(new AgentMessage { JobState = new JobStateChange { JobId = jobId, Attempt = attempt, State = state, ExitCode = exitCode } });

    /// <summary>The next received command matching <paramref name="match"/> (others are skipped).</summary>
    public async Task<SchedulerMessage> NextAsync(Func<SchedulerMessage, bool> match, int timeoutMs = 10_000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        while (true)
        {
            var m = await _received.Reader.ReadAsync(timeout.Token);
            if (match(m)) return m;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var m in _call.ResponseStream.ReadAllAsync()) await _received.Writer.WriteAsync(m);
            _received.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _received.Writer.TryComplete(e);
        }
    }

    private async Task HeartbeatAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await SendAsync(new AgentMessage { Heartbeat = new Heartbeat() });
                await Task.Delay(200, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException or InvalidOperationException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Stops heartbeating but keeps the stream open (a hung agent).</summary>
    public Task HangAsync() => _stop.CancelAsync();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _heartbeats;
        _call.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception)
        {
        }
        _stop.Dispose();
        _send.Dispose();
    }
}
