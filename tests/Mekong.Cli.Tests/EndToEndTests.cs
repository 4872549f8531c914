using Google.Protobuf;
using Mekong.Api.V1;

namespace Mekong.Cli.Tests;

/// <summary>The verbs against a real scheduler (in-process, SQLite, loopback gRPC).</summary>
public sealed class EndToEndTests : IClassFixture<SchedulerFixture>, IDisposable
{
    private readonly SchedulerFixture _server;
    private readonly CliRunner _cli;

    public EndToEndTests(SchedulerFixture server)
    {
        _server = server;
        _cli = server.Admin();
    }

    public void Dispose() => _cli.Dispose();

    private CliResult Ok(params string[] args) => SchedulerFixture.Expect(_cli.Run(args));

    private string Submit(params string[] extra) =>
        Ok([.. new[] { "submit", "--project", "uni-a/vision", "--gpus", "2", "--gpu-type", "h100", "--walltime", "1h" }, .. extra, "--", "python", "train.py"]).Output.Trim();

    private static void OneLineError(CliResult result, int exitCode, string startsWith)
    {
        Assert.Equal(exitCode, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(startsWith, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void LogsOfAJobThatHasNotRunArePrintedEmpty()
    {
        // No agent here: the job stays pending. Its output (none yet) prints as nothing; an unknown job is an error.
        // Output of real runs, and -f, are tested with real agents in Mekong.Integration.Tests.
        var id = Submit();
        var logs = Ok("logs", id);
        Assert.Equal("", logs.Output);
        Assert.Equal("", Ok("logs", id, "--stderr", "--rank", "0").Output);
        OneLineError(_cli.Run("logs", "987654"), 1, "mekong: not found");
        Ok("cancel", id);
    }

    [Fact]
    public void SubmitQueueShowWhyCancel()
    {
        var submitted = JsonParser.Default.Parse<Job>(Ok("submit", "--json", "--project", "uni-a/vision", "--name", "resnet", "--gpus", "8", "--nodes", "2",
            "--gpu-type", "h100", "--walltime", "1:30:00", "--priority", "high", "--preemptible", "--grace", "2m", "--env", "SEED=42", "--env", "MODE=fast",
            "--workdir", "/scratch", "--", "python", "train.py", "--epochs", "3").Output);
        Assert.Equal(JobState.Pending, submitted.State);
        Assert.Equal(["python", "train.py", "--epochs", "3"], submitted.Spec.Command);
        Assert.Equal((2u, 8u, "h100", 5400L, Priority.High, true, 120L), (submitted.Spec.Nodes, submitted.Spec.GpusPerNode, submitted.Spec.GpuType,
            submitted.Spec.Walltime.Seconds, submitted.Spec.Priority, submitted.Spec.Preemptible, submitted.Spec.GracePeriod.Seconds));
        Assert.Equal("42", submitted.Spec.Env["SEED"]);
        var id = submitted.Id;

        var queue = Ok("queue");
        Assert.StartsWith("ID ", queue.Lines[0], StringComparison.Ordinal);
        var row = Assert.Single(queue.Lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0] == id);
        Assert.Contains("uni-a/vision", row, StringComparison.Ordinal);
        Assert.Contains("pending", row, StringComparison.Ordinal);
        Assert.Contains("2x8 h100", row, StringComparison.Ordinal);

        var listed = ParseJobs(Ok("queue", "--json", "--project", "uni-a").Output);
        Assert.Contains(listed, j => j.Id == id && j.State == JobState.Pending && j.Explanation is not null);

        var show = Ok("show", id).Output;
        Assert.Contains("name:", show, StringComparison.Ordinal);
        Assert.Contains("resnet", show, StringComparison.Ordinal);
        Assert.Contains("python train.py --epochs 3", show, StringComparison.Ordinal);
        Assert.Contains("MODE=fast SEED=42", show, StringComparison.Ordinal);
        Assert.Equal(id, JsonParser.Default.Parse<Job>(Ok("show", id, "--json").Output).Id);

        var why = Ok("why", id).Output;
        Assert.StartsWith($"{id} is pending: ", why, StringComparison.Ordinal);
        Assert.Contains("estimated start:", why, StringComparison.Ordinal);
        var explained = JsonParser.Default.Parse<ExplainJobResponse>(Ok("why", id, "--json").Output);
        Assert.Equal(JobState.Pending, explained.State);
        Assert.False(string.IsNullOrEmpty(explained.Explanation.ReasonCode));

        Assert.Equal($"{id} cancelled", Ok("cancel", id, "--reason", "wrong data").Output.Trim());
        OneLineError(_cli.Run("cancel", id), 1, $"mekong: failed precondition: job {id} has already ended");
        Assert.DoesNotContain(ParseJobs(Ok("queue", "--json").Output), j => j.Id == id);
        var cancelled = Assert.Single(ParseJobs(Ok("queue", "--json", "--all").Output), j => j.Id == id);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Contains(ParseJobs(Ok("queue", "--json", "--state", "cancelled,failed").Output), j => j.Id == id);
        Assert.EndsWith("cancelled, not pending", Ok("why", id).Output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void QueuePagesUpToTheLimit()
    {
        var ids = Enumerable.Range(0, 5).Select(_ => Submit("--name", "paged")).ToList();
        var all = ParseJobs(Ok("queue", "--json", "--project", "uni-a/vision", "--limit", "1000").Output);
        Assert.Superset(ids.ToHashSet(), all.Select(j => j.Id).ToHashSet());
        var two = _cli.Run("queue", "--project", "uni-a/vision", "--limit", "2");
        Assert.Equal(0, two.ExitCode);
        Assert.Equal(3, two.Lines.Length); // header + 2
        Assert.Contains("--limit", two.Error, StringComparison.Ordinal);
        foreach (var id in ids) Ok("cancel", id);
    }

    [Fact]
    public void ServerErrorsAreOneLineAndExitOne()
    {
        OneLineError(_cli.Run("show", "999999"), 1, "mekong: not found: job 999999");
        OneLineError(_cli.Run("why", "999999"), 1, "mekong: not found: job 999999");
        OneLineError(_cli.Run("submit", "--project", "uni-a/vision", "--gpus", "0", "--walltime", "1h", "--", "true"), 1, "mekong: invalid argument: spec.gpus_per_node: must be at least 1");
        OneLineError(_cli.Run("submit", "--project", "nowhere/x", "--walltime", "1h", "--", "true"), 1, "mekong: not found: spec.project: project 'nowhere/x' does not exist");
        OneLineError(_cli.Run("submit", "--project", "uni-a/vision", "--walltime", "1x", "--", "true"), 2, "mekong: --walltime: '1x'");
        using var anonymous = new CliRunner().Set("MEKONG_SERVER", _server.Server);
        OneLineError(anonymous.Run("queue"), 1, "mekong: unauthenticated: missing bearer token");
        using var wrong = _server.As("mkg_not-a-token");
        OneLineError(wrong.Run("queue"), 1, "mekong: unauthenticated: unknown or revoked token");
    }

    [Fact]
    public void UnreachableServerIsOneLine()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port that was free a moment ago: nothing listens there now
        OneLineError(_cli.Run("queue", "--server", $"127.0.0.1:{port}"), 1, $"mekong: cannot reach http://127.0.0.1:{port}: connection refused");
    }

    [Fact]
    public void AdminAccounts()
    {
        Ok("admin", "accounts", "set", "uni-b", "--guarantee", "h100=2", "--shares", "3");
        Ok("admin", "accounts", "set", "uni-b/nlp", "--guarantee", "h100=1", "--limit", "h100=4", "--budget-gpu-hours", "100", "--budget-period", "quarter",
            "--on-exhausted", "scavenge", "--priority-preemption", "true");
        var table = Ok("admin", "accounts", "list", "uni-b").Output;
        Assert.Contains("uni-b/nlp", table, StringComparison.Ordinal);
        var accounts = ParseArray<Account>(Ok("admin", "accounts", "list", "--json").Output);
        var nlp = Assert.Single(accounts, a => a.Path == "uni-b/nlp");
        var quota = Assert.Single(nlp.Quotas);
        Assert.Equal(("h100", 1u, 4u), (quota.GpuType, quota.Guarantee, quota.Limit));
        Assert.Equal((100.0, BudgetPeriod.Quarter, OnExhausted.Scavenge), (nlp.Budget.GpuHours, nlp.Budget.Period, nlp.Budget.OnExhausted));
        Assert.True(nlp.AllowPriorityPreemption);
        Assert.Equal(3u, Assert.Single(accounts, a => a.Path == "uni-b").Shares);

        // set changes only what its flags name.
        Ok("admin", "accounts", "set", "uni-b/nlp", "--limit", "h100=none");
        nlp = Assert.Single(ParseArray<Account>(Ok("admin", "accounts", "list", "uni-b/nlp", "--json").Output), a => a.Path == "uni-b/nlp");
        quota = Assert.Single(nlp.Quotas);
        Assert.Equal((1u, false), (quota.Guarantee, quota.HasLimit));
        Assert.NotNull(nlp.Budget);

        // Name, kind and class: set, shown in the table and in --json, and kept by a later set that does not name them.
        Ok("admin", "accounts", "set", "uni-b", "--class", "government", "--display-name", "University B");
        Ok("admin", "accounts", "set", "uni-b/nlp", "--kind", "organisation", "--display-name", "NLP Group");
        Ok("admin", "accounts", "set", "uni-b/nlp", "--shares", "2");
        var rows = Ok("admin", "accounts", "list", "uni-b").Lines;
        Assert.Equal(["PATH", "NAME", "KIND", "CLASS", "SHARES"], rows[0].Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[..5]);
        Assert.Matches(@"^uni-b +University B +organisation +government +3 ", rows.Single(r => r.StartsWith("uni-b ", StringComparison.Ordinal)));
        Assert.Matches(@"^uni-b/nlp +NLP Group +organisation +- +2 ", rows.Single(r => r.StartsWith("uni-b/nlp ", StringComparison.Ordinal)));
        accounts = ParseArray<Account>(Ok("admin", "accounts", "list", "uni-b", "--json").Output);
        var b = Assert.Single(accounts, a => a.Path == "uni-b");
        Assert.Equal(("University B", AccountKind.Organisation, OrganisationClass.Government), (b.DisplayName, b.Kind, b.OrganisationClass));
        nlp = Assert.Single(accounts, a => a.Path == "uni-b/nlp");
        Assert.Equal(("NLP Group", AccountKind.Organisation, OrganisationClass.Unspecified, 2u), (nlp.DisplayName, nlp.Kind, nlp.OrganisationClass, nlp.Shares));
        Ok("admin", "accounts", "set", "uni-b/nlp", "--kind", "project");

        OneLineError(_cli.Run("admin", "accounts", "set", "uni-b/big", "--guarantee", "h100=99"), 1, "mekong: failed precondition: ");
        Ok("admin", "accounts", "remove", "uni-b/nlp");
        OneLineError(_cli.Run("admin", "accounts", "list", "uni-b/nlp"), 1, "mekong: not found: account 'uni-b/nlp' does not exist");
    }

    [Fact]
    public void AdminMembersAndTokens()
    {
        Assert.Contains("alice is member of uni-a/vision", Ok("admin", "members", "add", "uni-a/vision", "alice").Output, StringComparison.Ordinal);
        Ok("admin", "members", "add", "uni-a", "olga", "--role", "org-admin");
        var members = ParseArray<Member>(Ok("admin", "members", "list", "uni-a/vision", "--inherited", "--json").Output);
        Assert.Contains(members, m => m.User == "alice" && m.Role == Role.Member);
        Assert.Contains(members, m => m.User == "olga" && m.Role == Role.OrgAdmin);
        Assert.Contains("alice", Ok("admin", "members", "list", "uni-a/vision").Output, StringComparison.Ordinal);

        var issued = Ok("admin", "tokens", "issue", "alice", "--description", "laptop");
        var secret = Assert.Single(issued.Lines);
        Assert.Contains("shown only now", issued.Error, StringComparison.Ordinal);
        var token = Assert.Single(ParseArray<ApiToken>(Ok("admin", "tokens", "list", "--user", "alice", "--json").Output), t => t.Description == "laptop");
        Assert.Contains(token.Id, Ok("admin", "tokens", "list").Output, StringComparison.Ordinal);
        var agentToken = JsonParser.Default.Parse<IssueTokenResponse>(Ok("admin", "tokens", "issue", "node-1", "--role", "agent", "--json").Output);
        Assert.Equal(["agent"], agentToken.Token.Roles);

        using (var alice = _server.As(secret))
        {
            var id = SchedulerFixture.Expect(alice.Run("submit", "--project", "uni-a/vision", "--walltime", "10m", "--", "echo", "hi")).Output.Trim();
            Assert.Contains(ParseJobs(SchedulerFixture.Expect(alice.Run("queue", "--json")).Output), j => j.Id == id && j.User == "alice");
            SchedulerFixture.Expect(alice.Run("cancel", id));
            OneLineError(alice.Run("admin", "accounts", "set", "uni-a/vision", "--shares", "9"), 1, "mekong: permission denied: only centre admins may change accounts");

            Ok("admin", "members", "remove", "uni-a/vision", "alice");
            OneLineError(alice.Run("submit", "--project", "uni-a/vision", "--walltime", "10m", "--", "echo"), 1, "mekong: permission denied: alice is not a member of uni-a/vision");

            Assert.Equal($"token {token.Id} revoked", Ok("admin", "tokens", "revoke", token.Id).Output.Trim());
            OneLineError(alice.Run("queue"), 1, "mekong: unauthenticated: unknown or revoked token");
        }

        Assert.Contains(ParseArray<ApiToken>(Ok("admin", "tokens", "list", "--include-revoked", "--json").Output), t => t.Id == token.Id && t.Revoked);
    }

    [Fact]
    public void AdminTokensWithATtl()
    {
        var issued = Ok("admin", "tokens", "issue", "ttl-user", "--description", "a week", "--ttl", "7d");
        Assert.Contains(", expires ", issued.Error, StringComparison.Ordinal);
        var token = Assert.Single(ParseArray<ApiToken>(Ok("admin", "tokens", "list", "--user", "ttl-user", "--json").Output));
        Assert.Equal(TimeSpan.FromDays(7), token.ExpiresAt.ToDateTimeOffset() - token.CreatedAt.ToDateTimeOffset());
        // EXPIRES is relative to now, to the hour: a week less the moments since issuing.
        var row = Assert.Single(Ok("admin", "tokens", "list", "--user", "ttl-user").Lines, l => l.StartsWith(token.Id, StringComparison.Ordinal));
        Assert.Matches(@" in (7d|6d23h) ", row);

        OneLineError(_cli.Run("admin", "tokens", "issue", "ttl-user", "--ttl", "0s"), 1, "mekong: invalid argument: ttl: must be positive");
        OneLineError(_cli.Run("admin", "tokens", "issue", "ttl-user", "--ttl", "400d"), 1, "mekong: invalid argument: ttl: must be at most 366 days");
        Assert.Single(ParseArray<ApiToken>(Ok("admin", "tokens", "list", "--user", "ttl-user", "--include-revoked", "--json").Output));
    }

    [Fact]
    public void AdminNodes()
    {
        Assert.Equal("no nodes", Ok("admin", "nodes", "list").Output.Trim());
        Assert.Equal("[]", Ok("admin", "nodes", "list", "--json").Output.Trim());
        OneLineError(_cli.Run("admin", "nodes", "drain", "gpu-404", "--reason", "fan"), 1, "mekong: not found: ");
        OneLineError(_cli.Run("admin", "nodes", "resume", "gpu-404"), 1, "mekong: not found: ");
    }

    [Fact]
    public async Task WatchFollowsAJobUntilItEnds()
    {
        var id = Submit("--name", "watched");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watch = _cli.RunAsync(["watch", id], timeout.Token);
        var project = _cli.RunAsync(["watch", "--project", "uni-a/vision", "--json"], timeout.Token);
        await Task.Delay(500);
        Ok("cancel", id);
        var result = await watch;
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"{id} pending", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains($"{id} cancelled (was pending)", result.Lines[^1], StringComparison.Ordinal);

        // A project watch runs until Ctrl-C (here: the token), then exits 0 with one JSON event per line.
        await Task.Delay(300);
        await timeout.CancelAsync();
        var projectResult = await project;
        Assert.Equal(0, projectResult.ExitCode);
        var events = projectResult.Lines.Select(JsonParser.Default.Parse<JobEvent>).ToList();
        Assert.Contains(events, e => e.Job.Id == id && e.Job.State == JobState.Cancelled);
    }

    [Fact]
    public void ConfigFileInTheWorkingDirectoryNeedsNoFlags()
    {
        using var cli = new CliRunner();
        Directory.CreateDirectory(Path.Combine(cli.WorkDirectory, ".mekong"));
        File.WriteAllText(Path.Combine(cli.WorkDirectory, ".mekong", "config.yaml"),
            $"server: {_server.Server}\ntoken: {_server.AdminToken}\nproject: uni-a/vision\n");
        cli.WorkDirectory = Directory.CreateDirectory(Path.Combine(cli.WorkDirectory, "src")).FullName;
        var id = SchedulerFixture.Expect(cli.Run("submit", "--walltime", "5m", "--", "echo", "hi")).Output.Trim();
        Assert.Contains(ParseJobs(SchedulerFixture.Expect(cli.Run("queue", "--json")).Output), j => j.Id == id && j.Spec.Project == "uni-a/vision");
        SchedulerFixture.Expect(cli.Run("cancel", id));
    }

    private static List<Job> ParseJobs(string json) => ParseArray<Job>(json);

    private static List<T> ParseArray<T>(string json)
        where T : IMessage<T>, new()
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(System.Text.Json.JsonValueKind.Array, document.RootElement.ValueKind);
        return [.. document.RootElement.EnumerateArray().Select(e => JsonParser.Default.Parse<T>(e.GetRawText()))];
    }
}
