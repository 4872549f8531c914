using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Tests;

/// <summary>A real scheduler on a loopback port (Kestrel, cleartext HTTP/2) over a real SQLite file (or the
/// PostgreSQL in MEKONG_TEST_POSTGRES), with an admin token and typed clients.</summary>
internal sealed class TestScheduler : IAsyncDisposable
{
    private readonly List<RpcChannel> _channels = [];

    private TestScheduler(SchedulerHost host, string directory, SchedulerOptions options, string adminToken)
    {
        Host = host;
        Directory = directory;
        Options = options;
        AdminToken = adminToken;
    }

    public SchedulerHost Host { get; private set; }

    public string Directory { get; }

    public SchedulerOptions Options { get; }

    public string AdminToken { get; }

    public static async Task<TestScheduler> StartAsync(Action<SchedulerOptions>? configure = null, string? directory = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("mekong-sched-").FullName;
        var options = new SchedulerOptions
        {
            Store = $"Data Source={Path.Combine(directory, "mekong.db")}",
            Listen = "127.0.0.1:0",
            FullPassInterval = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(options);
        var host = await SchedulerHost.StartAsync(options);
        var token = await host.IssueTokenAsync("root", ["admin"], "test admin");
        return new TestScheduler(host, directory, options, token);
    }

    /// <summary>Stops the server and starts a new one on the same store (a clean restart).</summary>
    public async Task RestartAsync()
    {
        foreach (var c in _channels) c.Dispose();
        _channels.Clear();
        await Host.DisposeAsync();
        Host = await SchedulerHost.StartAsync(Options);
    }

    public RpcChannel Channel(string token)
    {
        var channel = new RpcChannel(Host.Address, new RpcChannelOptions { BearerToken = token });
        _channels.Add(channel);
        return channel;
    }

    public JobServiceClient Jobs(string? token = null) => new(Channel(token ?? AdminToken));

    public AdminServiceClient Admin(string? token = null) => new(Channel(token ?? AdminToken));

    /// <summary>An organisation and a project with a guarantee, and a member token for <paramref name="user"/>.</summary>
    public async Task<string> ProjectWithMemberAsync(string project, string user, string gpuType = "h100", uint guarantee = 4)
    {
        var admin = Admin();
        var org = project[..project.IndexOf('/', StringComparison.Ordinal)];
        // A child's guarantee must fit inside its parent's.
        var existing = (await admin.GetAccountTreeAsync(new GetAccountTreeRequest { })).Accounts.FirstOrDefault(a => a.Path == org);
        var orgAccount = existing ?? new Account { Path = org, Shares = 1 };
        var quota = orgAccount.Quotas.FirstOrDefault(q => q.GpuType == gpuType);
        if (quota is null) orgAccount.Quotas.Add(new GpuQuota { GpuType = gpuType, Guarantee = guarantee });
        else quota.Guarantee += guarantee;
        await admin.SetAccountAsync(new SetAccountRequest { Account = orgAccount });
        var account = new Account { Path = project, Shares = 1 };
        account.Quotas.Add(new GpuQuota { GpuType = gpuType, Guarantee = guarantee });
        await admin.SetAccountAsync(new SetAccountRequest { Account = account });
        await admin.SetMemberAsync(new SetMemberRequest { Member = new Member { Account = project, User = user, Role = Role.Member } });
        var issued = await admin.IssueTokenAsync(new IssueTokenRequest { User = user, Description = $"{user}'s token" });
        return issued.Secret;
    }

    public static SubmitJobRequest Job(string project, uint gpus = 1, uint nodes = 1, string gpuType = "", TimeSpan? walltime = null, params string[] command)
    {
        var spec = new JobSpec
        {
            Project = project,
            Name = "test",
            GpusPerNode = gpus,
            Nodes = nodes,
            GpuType = gpuType,
            Walltime = Duration.FromTimeSpan(walltime ?? TimeSpan.FromHours(1)),
            GracePeriod = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
            Preemptible = true,
        };
        spec.Command.AddRange(command.Length == 0 ? ["sleep", "1"] : command);
        return new SubmitJobRequest { Spec = spec };
    }

    /// <summary>Polls until <paramref name="condition"/> holds (the scheduler works asynchronously).</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var value = await read();
            if (condition(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}; last value: {value}");
            await Task.Delay(25);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Host.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
