using Mekong.Api.V1;
using Npgsql;

namespace Mekong.Scheduler.Tests;

/// <summary>The scheduler on PostgreSQL (the production store): the same lifecycle and restart as on SQLite,
/// in a fresh schema of the server scripts/start-postgres.sh starts (or MEKONG_TEST_POSTGRES).</summary>
public sealed class PostgresSchedulerTests : IAsyncLifetime
{
    private const string Default = "Host=127.0.0.1;Port=5432;Database=mekong_test;Username=mekong_test;Password=mekong_test";
    private readonly string _server = Environment.GetEnvironmentVariable("MEKONG_TEST_POSTGRES") is { Length: > 0 } s ? s : Default;
    private readonly string _schema = $"s_{Guid.NewGuid():N}";
    private TestScheduler _s = null!;

    public async Task InitializeAsync()
    {
        await ExecuteAsync($"CREATE SCHEMA {_schema}");
        var store = new NpgsqlConnectionStringBuilder(_server) { SearchPath = _schema }.ConnectionString;
        _s = await TestScheduler.StartAsync(o => o.Store = store);
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP SCHEMA {_schema} CASCADE");
    }

    [Fact]
    public async Task A_job_runs_to_completion_and_everything_survives_a_restart()
    {
        var alice = await _s.ProjectWithMemberAsync("uni-a/vision", "alice");
        var agentToken = (await _s.Admin().IssueTokenAsync(new IssueTokenRequest { User = "agents", Roles = { "agent" } })).Secret;
        var agent = await ScriptedAgent.ConnectAsync(_s.Channel(agentToken), "gpu-01", 4);
        var done = (await _s.Jobs(alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 4))).Job;
        var start = (await agent.NextAsync(m => m.StartJob?.JobId == done.Id)).StartJob;
        await agent.ReportAsync(done.Id, start.Attempt, AgentJobState.Exited);
        await TestScheduler.EventuallyAsync(() => _s.Jobs().GetJobAsync(new GetJobRequest { Id = done.Id }), r => r.Job.State == JobState.Succeeded, "success");
        var waiting = (await _s.Jobs(alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision", gpus: 4))).Job;
        await agent.NextAsync(m => m.StartJob?.JobId == waiting.Id);
        await TestScheduler.EventuallyAsync(() => _s.Jobs().GetJobAsync(new GetJobRequest { Id = waiting.Id }), r => r.Job.State == JobState.Running, "running");
        await agent.DisposeAsync();

        await _s.RestartAsync();
        Assert.Equal(JobState.Succeeded, (await _s.Jobs(alice).GetJobAsync(new GetJobRequest { Id = done.Id })).Job.State);
        Assert.Equal(JobState.Running, (await _s.Jobs(alice).GetJobAsync(new GetJobRequest { Id = waiting.Id })).Job.State);
        Assert.Equal(2, (await _s.Jobs(alice).ListJobsAsync(new ListJobsRequest { Project = "uni-a/vision" })).Jobs.Count);
        Assert.Contains((await _s.Admin().ListNodesAsync(new ListNodesRequest())).Nodes, n => n.Name == "gpu-01");
    }

    [Fact]
    public async Task Account_labels_token_expiry_and_who_cancelled_survive_a_restart()
    {
        var admin = _s.Admin();
        await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "gov", Kind = AccountKind.Project, DisplayName = "Met Office", OrganisationClass = OrganisationClass.Government } });
        var alice = await _s.ProjectWithMemberAsync("uni-a/vision", "alice");
        var brief = await admin.IssueTokenAsync(new IssueTokenRequest { User = "alice", Ttl = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromDays(2)) });
        var job = (await _s.Jobs(alice).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        await _s.Jobs(brief.Secret).CancelJobAsync(new CancelJobRequest { Id = job.Id, Reason = "not needed" });

        await _s.RestartAsync();
        var gov = (await _s.Admin().GetAccountTreeAsync(new GetAccountTreeRequest { Path = "gov" })).Accounts.Single(a => a.Path == "gov");
        Assert.Equal((AccountKind.Project, "Met Office", OrganisationClass.Government), (gov.Kind, gov.DisplayName, gov.OrganisationClass));
        var token = (await _s.Admin().ListTokensAsync(new ListTokensRequest { User = "alice" })).Tokens.Single(t => t.Id == brief.Token.Id);
        Assert.Equal(brief.Token.ExpiresAt, token.ExpiresAt);
        Assert.Equal("alice", (await _s.Jobs(brief.Secret).GetJobAsync(new GetJobRequest { Id = job.Id })).Job.CancelledBy);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
