using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Mekong.Policy;
using Mekong.Store.Backends;
using Mekong.Store.Schema;
using Mekong.Store.Writing;

namespace Mekong.Store.Tests;

/// <summary>The store's contract, run unchanged on every backend (see <see cref="SqliteStoreTests"/> and
/// <see cref="PostgresStoreTests"/>). Each test gets a fresh, empty store.</summary>
public abstract partial class StoreContractTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly ManualTime _time = new(T0);

    protected abstract StoreBackend Backend { get; }

    protected abstract string StoreString { get; }

    /// <summary>Runs SQL on the store's database behind its back (to plant a future schema version).</summary>
    protected abstract void ExecuteRaw(string sql);

    /// <summary>Every column of every row of a table, as text.</summary>
    protected abstract List<string> ReadAllText(string table);

    protected static List<string> ReadAll(DbConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM {table}";
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
            for (var i = 0; i < reader.FieldCount; i++)
                values.Add(Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "");
        return values;
    }

    private MekongStore Open() => MekongStore.Open(StoreString, _time);

    // ------------------------------------------------------------------ builders

    private static JobSpec Job(string name, int nodes = 1, int gpus = 1, string? type = "h100") =>
        new(default, "uni-a/vision", "alice", name, nodes, gpus, type, TimeSpan.FromHours(2), T0);

    private static readonly JobCommand Train = new(["python", "train.py", "--epochs", "3"],
        new Dictionary<string, string> { ["WANDB_MODE"] = "offline", ["SEED"] = "7" }, "/home/alice/run", null);

    private static async Task SeedTree(StoreWriter w)
    {
        await w.SetAccountAsync(new AccountSpec("uni-a") { Shares = 3, Guarantee = new Dictionary<string, int> { ["h100"] = 16 } });
        await w.SetAccountAsync(new AccountSpec("uni-a/vision")
        {
            Shares = 2,
            Guarantee = new Dictionary<string, int> { ["h100"] = 8 },
            Limit = new Dictionary<string, int> { ["h100"] = 24, ["a100"] = 4 },
            Budget = new Budget(1000, BudgetPeriod.Quarter, BudgetAction.Scavenge),
            PriorityPreemption = true,
        });
        await w.SetNodeAsync(new NodeSpec("n1", "h100", 8, 96, 1_000_000, "rack-1"));
        await w.SetNodeAsync(new NodeSpec("n2", "h100", 8, 96, 1_000_000, "rack-1"));
        await w.SetNodeAsync(new NodeSpec("n3", "a100", 4, 32, 500_000, "rack-2"), NodeState.Draining);
    }

    // ------------------------------------------------------------------ migrations

    [Fact]
    public async Task Migrates_an_empty_database_and_reopening_applies_nothing()
    {
        await using (var store = Open())
        {
            Assert.Equal(Backend, store.Backend);
            Assert.Equal(0, store.PreviousSchemaVersion);
            await store.Writer.SetAccountAsync(new AccountSpec("uni-a"));
        }
        await using (var store = Open())
        {
            Assert.Equal(MekongStore.SchemaVersion, store.PreviousSchemaVersion);
            var snapshot = await store.LoadAsync(T0.AddDays(-30));
            Assert.Equal("uni-a", Assert.Single(snapshot.Accounts).Path);
        }
        Assert.Equal(MekongStore.SchemaVersion, ReadAllText("schema_version").Count / 3);
    }

    [Fact]
    public async Task Refuses_a_database_newer_than_the_code()
    {
        await using (Open()) { }
        ExecuteRaw($"INSERT INTO schema_version (version, description, applied_at) VALUES ({MekongStore.SchemaVersion + 1}, 'from the future', 0)");
        var e = Assert.Throws<StoreException>(Open);
        Assert.Contains("newer than this build", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrades_a_version_1_database_and_its_rows_read_as_before()
    {
        // A database as version 1 of the schema left it, with rows written then.
        await using (var dialect = SqlDialect.Create(StoreLocation.Parse(StoreString)))
            foreach (var statement in Migrator.Statements(dialect.Expand(Migrator.All[0].Sql))) ExecuteRaw(statement);
        ExecuteRaw("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        ExecuteRaw("INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'initial', 0)");
        ExecuteRaw("INSERT INTO accounts (path, parent, shares, guarantees, limits, priority_preemption, updated_at) VALUES ('uni-a', '', 2, '{}', '{}', 0, 0)");
        var secret = TokenSecret.NewSecret();
        ExecuteRaw($"INSERT INTO api_tokens (id, secret_hash, name, subject, roles, created_at, revoked_at) VALUES ('tok_old', '{TokenSecret.Hash(secret)}', 'old', 'alice', '[]', 0, NULL)");
        foreach (var (id, state, reason) in new[] { (1, "cancelled", "cancelled by bob: wrong data"), (2, "cancelled", "cancelled by carol"), (3, "failed", "cancelled by nobody") })
            ExecuteRaw($$"""
                INSERT INTO jobs (id, project, user_name, name, nodes, gpus_per_node, walltime, cpu_per_node, memory_mb_per_node, priority,
                    preemptible, grace_period, requeue, command, env, state, submit_time, borrowing, preemption_count, reason)
                VALUES ({{id}}, 'uni-a', 'alice', 'old', 1, 1, {{TimeSpan.TicksPerHour}}, 0, 0, 'normal', 0, 0, 1, '[]', '{}', '{{state}}', 0, 0, 0, '{{reason}}')
                """);

        await using var store = Open();
        Assert.Equal(1, store.PreviousSchemaVersion);
        var account = Assert.Single((await store.LoadAsync(T0)).Accounts);
        Assert.Equal(("uni-a", 2), (account.Path, account.Shares));
        Assert.Equal(((AccountKind?)null, (string?)null, (OrganisationClass?)null), (account.Kind, account.DisplayName, account.OrganisationClass));
        var token = await store.FindTokenAsync(secret);
        Assert.Equal(("tok_old", (DateTimeOffset?)null), (token!.Id, token.Expires));
        // Jobs cancelled then have no cancelled_by: the canceller is read from the reason text they were written with.
        Assert.Equal("bob", (await store.GetJobAsync(new JobId(1)))!.CancelledBy);
        Assert.Equal("carol", (await store.GetJobAsync(new JobId(2)))!.CancelledBy);
        Assert.Null((await store.GetJobAsync(new JobId(3)))!.CancelledBy);
        Assert.Equal("cancelled by bob: wrong data", (await store.GetJobAsync(new JobId(1)))!.Reason);
    }

    // ------------------------------------------------------------------ jobs

    [Fact]
    public async Task Submit_transition_and_load_round_trip_every_field()
    {
        JobSpec a, b, c, d;
        await using (var store = Open())
        {
            var w = store.Writer;
            await SeedTree(w);
            await w.SetMemberAsync(new Member("uni-a/vision", "alice", "project-admin"));
            await w.SetMemberAsync(new Member("uni-a", "olga", "org-admin"));
            a = await w.SubmitAsync(Job("gang", nodes: 2, gpus: 4) with { Priority = JobPriority.High, Preemptible = false, CpuPerNode = 16, MemoryMbPerNode = 64_000, GracePeriod = TimeSpan.FromMinutes(2), Requeue = false }, Train);
            b = await w.SubmitAsync(Job("any-type", type: null), JobCommand.Empty);
            c = await w.SubmitAsync(Job("to-hold"), Train with { Image = "nvcr.io/pytorch:24.01" });
            d = await w.SubmitAsync(Job("to-cancel"), Train);
            Assert.True(a.Id < b.Id && b.Id < c.Id && c.Id < d.Id);

            IReadOnlyList<NodeAllocation> gang = [new("n1", 0b1111), new("n2", 0b1111_0000)];
            await w.TransitionAsync(JobTransition.Started(a.Id, T0.AddMinutes(1), gang, "h100", borrowing: true));
            await w.TransitionAsync(JobTransition.Held(c.Id, T0.AddMinutes(2), "admin hold"));
            await w.TransitionAsync(JobTransition.Ended(d.Id, JobState.Cancelled, T0.AddMinutes(3), reason: "user"));
        }

        await using (var store = Open())
        {
            var snapshot = await store.LoadAsync(T0.AddDays(-90));
            Assert.Equal(["uni-a", "uni-a/vision"], snapshot.Accounts.Select(x => x.Path));
            var vision = snapshot.Accounts[1];
            Assert.Equal(2, vision.Shares);
            Assert.Equal(8, vision.Guarantee["h100"]);
            Assert.Equal(4, vision.Limit["a100"]);
            Assert.Equal(new Budget(1000, BudgetPeriod.Quarter, BudgetAction.Scavenge), vision.Budget);
            Assert.True(vision.PriorityPreemption);
            Assert.Equal([new Member("uni-a", "olga", "org-admin"), new Member("uni-a/vision", "alice", "project-admin")], snapshot.Members);
            Assert.Equal([NodeState.Up, NodeState.Up, NodeState.Draining], snapshot.Nodes.Select(n => n.State));
            Assert.Equal(new NodeSpec("n3", "a100", 4, 32, 500_000, "rack-2"), snapshot.Nodes[2].Spec);

            // The cancelled job is history, not live state.
            Assert.Equal([a.Id, b.Id, c.Id], snapshot.Jobs.Select(j => j.Id));
            Assert.Equal(d.Id.Value, snapshot.LastJobId);

            var running = Assert.Single(snapshot.Running);
            Assert.Equal(a, running.Spec);
            Assert.Equal(Train.Argv, running.Command.Argv);
            Assert.Equal(Train.Env, running.Command.Env);
            Assert.Equal("/home/alice/run", running.Command.WorkingDirectory);
            Assert.Equal([new NodeAllocation("n1", 0b1111), new NodeAllocation("n2", 0b1111_0000)], running.Allocations);
            Assert.Equal("h100", running.AllocatedType);
            Assert.True(running.Borrowing);
            Assert.Equal(T0.AddMinutes(1), running.StartTime);

            Assert.Equal(b, snapshot.Jobs[1].Spec);
            Assert.Null(snapshot.Jobs[1].Spec.GpuType);
            Assert.Equal(JobState.Held, snapshot.Jobs[2].State);
            Assert.Equal("admin hold", snapshot.Jobs[2].Reason);
            Assert.Equal("nvcr.io/pytorch:24.01", snapshot.Jobs[2].Command.Image);

            var open = Assert.Single(snapshot.Usage);
            Assert.Equal(new UsageRecord(a.Id, "uni-a/vision", "alice", "h100", 8, true, T0.AddMinutes(1), null), open);

            var cancelled = await store.GetJobAsync(d.Id);
            Assert.Equal(JobState.Cancelled, cancelled!.State);
            Assert.Equal(T0.AddMinutes(3), cancelled.EndTime);
            Assert.Null(await store.GetJobAsync(new JobId(999_999)));

            // Ids continue after the highest stored one.
            var next = await store.Writer.SubmitAsync(Job("after-restart"), Train);
            Assert.Equal(d.Id.Value + 1, next.Id.Value);
        }
    }

    [Fact]
    public async Task Who_cancelled_a_job_is_stored_apart_from_the_reason_and_survives_reopen()
    {
        JobSpec byUser, whileRunning, byScheduler, failed;
        await using (var store = Open())
        {
            var w = store.Writer;
            await SeedTree(w);
            byUser = await w.SubmitAsync(Job("by-user"), Train);
            whileRunning = await w.SubmitAsync(Job("while-running"), Train);
            byScheduler = await w.SubmitAsync(Job("by-scheduler"), Train);
            failed = await w.SubmitAsync(Job("failed"), Train);
            // A name with a colon: the reason text alone could not say where the name ends.
            await w.TransitionAsync(JobTransition.Cancelled(byUser.Id, T0.AddMinutes(1), "ops:carol", "cancelled by ops:carol: wrong data"));
            await w.TransitionAsync(JobTransition.Started(whileRunning.Id, T0.AddMinutes(1), [new("n1", 1)], "h100", false));
            await w.TransitionAsync(JobTransition.Cancelled(whileRunning.Id, T0.AddMinutes(2), "alice"));
            await w.TransitionAsync(JobTransition.Ended(byScheduler.Id, JobState.Cancelled, T0.AddMinutes(2), reason: "project 'uni-a/vision' does not exist"));
            await w.TransitionAsync(JobTransition.Started(failed.Id, T0.AddMinutes(1), [new("n2", 1)], "h100", false));
            await w.TransitionAsync(JobTransition.Ended(failed.Id, JobState.Failed, T0.AddMinutes(2), 1, "exit code 1"));
            await Assert.ThrowsAsync<StoreException>(() => w.TransitionAsync(JobTransition.Ended(failed.Id, JobState.Failed, T0, 1) with { CancelledBy = "bob" }));
            await Assert.ThrowsAsync<StoreException>(() => w.TransitionAsync(JobTransition.Cancelled(failed.Id, T0, " ")));
        }
        await using (var store = Open())
        {
            var user = await store.GetJobAsync(byUser.Id);
            Assert.Equal(("ops:carol", "cancelled by ops:carol: wrong data"), (user!.CancelledBy, user.Reason));
            Assert.Equal(("alice", (string?)null), ((await store.GetJobAsync(whileRunning.Id))!.CancelledBy, (await store.GetJobAsync(whileRunning.Id))!.Reason));
            Assert.Null((await store.GetJobAsync(byScheduler.Id))!.CancelledBy);
            Assert.Null((await store.GetJobAsync(failed.Id))!.CancelledBy);
            var listed = (await store.ListJobsAsync(new JobQuery(null, [JobState.Cancelled], null, null, 10))).ToDictionary(j => j.Id);
            Assert.Equal(["ops:carol", "alice", null], new[] { byUser.Id, whileRunning.Id, byScheduler.Id }.Select(id => listed[id].CancelledBy));
        }
    }

    [Fact]
    public async Task A_run_that_is_preempted_and_rerun_leaves_events_and_one_usage_record_per_run()
    {
        await using var store = Open();
        var w = store.Writer;
        await SeedTree(w);
        var job = await w.SubmitAsync(Job("train", gpus: 2), Train);
        await w.TransitionAsync(JobTransition.Started(job.Id, T0.AddMinutes(10), [new("n1", 0b11)], "h100", borrowing: true));
        await w.TransitionAsync(JobTransition.Preempted(job.Id, T0.AddMinutes(40), "guarantee reclaim"));
        var requeued = (await store.LoadAsync(T0)).Jobs.Single();
        Assert.Equal(JobState.Preempted, requeued.State);
        Assert.Equal(1, requeued.Spec.PreemptionCount);
        Assert.Equal(T0, requeued.Spec.SubmitTime);

        await w.TransitionAsync(JobTransition.Started(job.Id, T0.AddMinutes(50), [new("n2", 0b1100)], "h100", borrowing: false));
        await w.TransitionAsync(JobTransition.Ended(job.Id, JobState.Succeeded, T0.AddMinutes(110), exitCode: 0));

        Assert.Equal(
            [JobState.Pending, JobState.Running, JobState.Preempted, JobState.Running, JobState.Succeeded],
            (await store.GetJobEventsAsync(job.Id)).Select(e => e.State));
        var usage = await store.GetUsageAsync(T0, T0.AddDays(1));
        Assert.Equal(
            [new UsageRecord(job.Id, "uni-a/vision", "alice", "h100", 2, true, T0.AddMinutes(10), T0.AddMinutes(40)),
             new UsageRecord(job.Id, "uni-a/vision", "alice", "h100", 2, false, T0.AddMinutes(50), T0.AddMinutes(110))],
            usage);
        Assert.Equal(2 * 90 * 60, usage.Sum(u => u.GpuSeconds(T0.AddDays(1))));
        var done = await store.GetJobAsync(job.Id);
        Assert.Equal((JobState.Succeeded, 0, 1), (done!.State, done.ExitCode, done.Spec.PreemptionCount));
        Assert.Empty((await store.LoadAsync(T0)).Jobs);
    }

    [Fact]
    public async Task Job_listing_filters_by_project_subtree_state_and_user_and_pages_newest_first()
    {
        await using var store = Open();
        var w = store.Writer;
        await SeedTree(w);
        await w.SetAccountAsync(new AccountSpec("uni-a/vision_x"));
        var vision = new List<JobId>();
        for (var i = 0; i < 5; i++) vision.Add((await w.SubmitAsync(Job($"v{i}"), Train)).Id);
        // A sibling whose name extends "vision" and contains LIKE's wildcard must not match the "uni-a/vision" subtree.
        var sibling = (await w.SubmitAsync(Job("x") with { Project = "uni-a/vision_x", User = "bob" }, Train)).Id;
        await w.TransitionAsync(JobTransition.Ended(vision[1], JobState.Cancelled, T0.AddMinutes(1), reason: "by alice"));

        var all = await store.ListJobsAsync(new JobQuery(null, null, null, null, 100));
        Assert.Equal([sibling, .. vision.AsEnumerable().Reverse()], all.Select(j => j.Id));
        Assert.Equal(vision.AsEnumerable().Reverse(), (await store.ListJobsAsync(new JobQuery(["uni-a/vision"], null, null, null, 100))).Select(j => j.Id));
        Assert.Equal(6, (await store.ListJobsAsync(new JobQuery(["uni-a"], null, null, null, 100))).Count);
        Assert.Empty(await store.ListJobsAsync(new JobQuery([], null, null, null, 100)));
        Assert.Equal([vision[1]], (await store.ListJobsAsync(new JobQuery(null, [JobState.Cancelled], null, null, 100))).Select(j => j.Id));
        Assert.Equal([sibling], (await store.ListJobsAsync(new JobQuery(null, null, "bob", null, 100))).Select(j => j.Id));
        var page1 = await store.ListJobsAsync(new JobQuery(["uni-a/vision"], null, null, null, 2));
        var page2 = await store.ListJobsAsync(new JobQuery(["uni-a/vision"], null, null, page1[^1].Id.Value, 2));
        Assert.Equal([vision[4], vision[3], vision[2], vision[1]], page1.Concat(page2).Select(j => j.Id));
    }

    // ------------------------------------------------------------------ group commit

    [Fact]
    public async Task Concurrent_submissions_are_batched_and_every_acknowledged_one_survives_reopen()
    {
        const int callers = 16, each = 60;
        List<JobSpec> acknowledged;
        long batches;
        await using (var store = Open())
        {
            await SeedTree(store.Writer);
            var tasks = Enumerable.Range(0, callers).Select(async c =>
            {
                var mine = new List<JobSpec>();
                for (var i = 0; i < each; i++) mine.Add(await store.Writer.SubmitAsync(Job($"c{c}-{i}"), Train));
                return mine;
            }).ToArray();
            acknowledged = (await Task.WhenAll(tasks)).SelectMany(x => x).ToList();
            batches = store.Writer.Batches;
        }
        Assert.Equal(callers * each, acknowledged.Select(j => j.Id).Distinct().Count());
        Assert.True(batches < callers * each, $"{batches} transactions for {callers * each} submissions: no grouping happened");

        await using (var store = Open())
        {
            var snapshot = await store.LoadAsync(T0);
            Assert.Equal(acknowledged.Select(j => j.Id).Order(), snapshot.Jobs.Select(j => j.Id));
            // Ids are dense from 1 in commit order: nothing was lost or duplicated.
            Assert.Equal(Enumerable.Range(1, callers * each).Select(i => (long)i), snapshot.Jobs.Select(j => j.Id.Value));
        }
    }

    [Fact]
    public async Task Disposing_commits_everything_already_queued()
    {
        Task<JobSpec>[] pending;
        await using (var store = Open())
        {
            await SeedTree(store.Writer);
            pending = Enumerable.Range(0, 300).Select(i => store.Writer.SubmitAsync(Job($"j{i}"), Train)).ToArray();
        }
        Assert.All(pending, t => Assert.True(t.IsCompletedSuccessfully));
        await using (var store = Open())
            Assert.Equal(300, (await store.LoadAsync(T0)).Jobs.Count);
    }

    [Fact]
    public async Task A_bad_mutation_fails_only_its_caller_and_the_rest_of_its_batch_commits()
    {
        await using var store = Open();
        var w = store.Writer;
        await SeedTree(w);
        var done = await w.SubmitAsync(Job("done"), Train);
        await w.TransitionAsync(JobTransition.Ended(done.Id, JobState.Cancelled, T0));

        // Invalid input never reaches the queue: the call itself throws.
        Assert.Throws<StoreException>(() => { _ = w.SubmitAsync(Job("zero") with { Nodes = 0 }, Train); });
        Assert.Throws<StoreException>(() => { _ = w.SubmitAsync(Job("no-project") with { Project = "" }, Train); });
        Assert.Throws<StoreException>(() => { _ = w.TransitionAsync(new JobTransition(done.Id, JobState.Running, T0)); });
        Assert.Throws<StoreException>(() => { _ = w.SetMemberAsync(new Member("uni-a", "bob", "superuser")); });

        // Queued together: good ones, state refusals, and one that breaks inside the database.
        var good = Enumerable.Range(0, 50).Select(i => w.SubmitAsync(Job($"g{i}"), Train)).ToList();
        var notFound = w.TransitionAsync(JobTransition.Preempted(new JobId(424242), T0));
        var wrongState = w.TransitionAsync(JobTransition.Started(done.Id, T0, [new("n1", 1)], "h100", false));
        var unknownAccount = w.SetMemberAsync(new Member("uni-z/nope", "bob", "member"));
        var broken = w.Enqueue(new BrokenMutation());
        var more = Enumerable.Range(0, 50).Select(i => w.SubmitAsync(Job($"h{i}"), Train)).ToList();

        Assert.Contains("does not exist", (await Assert.ThrowsAsync<StoreException>(() => notFound)).Message, StringComparison.Ordinal);
        Assert.Contains("is cancelled", (await Assert.ThrowsAsync<StoreException>(() => wrongState)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", (await Assert.ThrowsAsync<StoreException>(() => unknownAccount)).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreException>(() => broken);
        var stored = await Task.WhenAll(good.Concat(more));

        var snapshot = await store.LoadAsync(T0);
        Assert.Equal(stored.Select(j => j.Id).Order(), snapshot.Jobs.Select(j => j.Id));
        Assert.Equal(JobState.Cancelled, (await store.GetJobAsync(done.Id))!.State);
        Assert.DoesNotContain(snapshot.Members, m => m.User == "bob");
        // The writer goes on after a failed batch.
        Assert.Equal(stored.Max(j => j.Id.Value) + 1, (await w.SubmitAsync(Job("after"), Train)).Id.Value);
    }

    /// <summary>A statement the database rejects mid-batch (PostgreSQL then aborts the whole transaction).</summary>
    private sealed class BrokenMutation : Mutation<bool>
    {
        protected override bool Result => true;

        public override void Apply(WriteSession session) => session.Execute("INSERT INTO no_such_table (x) VALUES (@p0)", 1);
    }

    // ------------------------------------------------------------------ restart

    [Fact]
    public async Task A_policy_core_rebuilt_from_the_store_holds_the_same_jobs()
    {
        JobSpec running, waiting, held;
        await using (var store = Open())
        {
            var w = store.Writer;
            await SeedTree(w);
            running = await w.SubmitAsync(Job("runs", gpus: 4), Train);
            waiting = await w.SubmitAsync(Job("waits", gpus: 8), Train);
            held = await w.SubmitAsync(Job("held"), Train);
            var old = await w.SubmitAsync(Job("old"), Train);
            await w.TransitionAsync(JobTransition.Started(old.Id, T0, [new("n2", 1)], "h100", false));
            await w.TransitionAsync(JobTransition.Ended(old.Id, JobState.Succeeded, T0.AddHours(1), 0));
            await w.TransitionAsync(JobTransition.Started(running.Id, T0.AddHours(1), [new("n1", 0b1111)], "h100", false));
            await w.TransitionAsync(JobTransition.Held(held.Id, T0.AddHours(1)));
        }
        _time.Now = T0.AddHours(2);
        await using (var store = Open())
        {
            var engine = new PolicyEngine(new PolicySettings(), _time);
            (await store.LoadAsync(T0.AddDays(-30))).RestoreInto(engine);
            Assert.Equal((1, 2), (engine.RunningCount, engine.PendingCount));
        }
    }
}
