using System.Text;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Integration.Tests.Harness;

/// <summary>The scheduler's API as an admin uses it in these tests: accounts, tokens, submissions, states, logs.</summary>
internal sealed class ClusterApi : IDisposable
{
    private readonly RpcChannel _channel;

    public ClusterApi(Uri address, string adminToken)
    {
        _channel = new RpcChannel(address, new RpcChannelOptions { BearerToken = adminToken });
        Jobs = new JobServiceClient(_channel);
        Admin = new AdminServiceClient(_channel);
    }

    public JobServiceClient Jobs { get; }

    public AdminServiceClient Admin { get; }

    public async Task<string> AgentTokenAsync() =>
        (await Admin.IssueTokenAsync(new IssueTokenRequest { User = "agents", Roles = { "agent" }, Description = "test agents" })).Secret;

    /// <summary>An organisation and one project under it, both with <paramref name="guarantee"/> GPUs of the type.</summary>
    public async Task ProjectAsync(string project, uint guarantee, string gpuType = "h100")
    {
        var org = project[..project.IndexOf('/', StringComparison.Ordinal)];
        foreach (var path in new[] { org, project })
        {
            var account = new Account { Path = path, Shares = 1 };
            if (guarantee > 0) account.Quotas.Add(new GpuQuota { GpuType = gpuType, Guarantee = guarantee });
            await Admin.SetAccountAsync(new SetAccountRequest { Account = account });
        }
    }

    public Task WaitForNodesAsync(int count, int timeoutSeconds = 30) =>
        Poll.UntilAsync(async () => (await Admin.ListNodesAsync(new ListNodesRequest())).Nodes.Count(n => n.State == Mekong.Api.V1.NodeState.Up),
            n => n >= count, $"{count} nodes up", timeoutSeconds);

    /// <summary>Submits <c>bash -c SCRIPT</c>.</summary>
    public async Task<Job> SubmitAsync(string project, string script, uint gpus = 1, uint nodes = 1, TimeSpan? walltime = null,
        TimeSpan? grace = null, ulong memoryBytes = 0, bool preemptible = false)
    {
        var spec = new JobSpec
        {
            Project = project,
            Name = "it",
            GpusPerNode = gpus,
            Nodes = nodes,
            GpuType = "h100",
            Walltime = Duration.FromTimeSpan(walltime ?? TimeSpan.FromMinutes(10)),
            GracePeriod = Duration.FromTimeSpan(grace ?? TimeSpan.FromSeconds(5)),
            MemoryBytesPerNode = memoryBytes,
            // Only a preemptible job may borrow beyond its accounts' guarantees.
            Preemptible = preemptible,
        };
        spec.Command.AddRange(["bash", "-c", script]);
        return (await Jobs.SubmitJobAsync(new SubmitJobRequest { Spec = spec })).Job;
    }

    /// <summary>Waits until the scheduler answers (after a (re)start).</summary>
    public Task WaitReachableAsync(int timeoutSeconds = 60) => Poll.UntilAsync(async () =>
    {
        try
        {
            await Jobs.ListJobsAsync(new ListJobsRequest { PageSize = 1 });
            return true;
        }
        catch (Mekong.Transport.RpcException e) when (e.StatusCode == Mekong.Transport.StatusCode.Unavailable)
        {
            return false;
        }
    }, ok => ok, "the scheduler answering", timeoutSeconds);

    public async Task<Job> GetAsync(string id) => (await Jobs.GetJobAsync(new GetJobRequest { Id = id })).Job;

    public Task<Job> WaitAsync(string id, Func<Job, bool> condition, string what, int timeoutSeconds = 30) =>
        Poll.UntilAsync(() => GetAsync(id), condition, $"job {id} {what}", timeoutSeconds);

    public Task<Job> WaitStateAsync(string id, JobState state, int timeoutSeconds = 30) =>
        WaitAsync(id, j => j.State == state, EnumName(state), timeoutSeconds);

    public static bool IsFinal(Job job) => job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.TimedOut;

    /// <summary>What ReadJobLogs has of one run, rank and stream (no follow), as text.</summary>
    public async Task<string> LogsAsync(string id, uint attempt = 0, uint rank = 0, bool stderr = false)
    {
        var request = new ReadJobLogsRequest { Id = id, Attempt = attempt, Rank = rank, Stream = stderr ? OutputStream.Stderr : OutputStream.Stdout };
        using var call = Jobs.ReadJobLogs(request);
        var bytes = new List<byte>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None)) bytes.AddRange(call.ResponseStream.Current.Data);
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static string EnumName(JobState state) => state.ToString().ToLowerInvariant();

    public void Dispose() => _channel.Dispose();
}
