using System.Data.Common;
using System.Globalization;
using Mekong.Policy;

namespace Mekong.Store;

public sealed partial class MekongStore
{
    private const string JobColumns = """
        id, project, user_name, name, nodes, gpus_per_node, gpu_type, walltime, cpu_per_node, memory_mb_per_node,
        priority, preemptible, grace_period, requeue, command, env, working_dir, image, state, submit_time,
        start_time, end_time, allocated_type, allocations, borrowing, preemption_count, exit_code, reason, cancelled_by
        """;

    private const string TokenColumns = "id, name, subject, roles, created_at, revoked_at, expires_at";

    private const string UsageColumns = "job_id, project, user_name, gpu_type, gpus, borrowing, start_time, end_time";

    /// <summary>Everything needed to rebuild the policy core, in one consistent read: accounts (parents
    /// first), members, nodes, live jobs with their allocations, and the runs that ended at or after
    /// <paramref name="usageSince"/> or are still open.</summary>
    /// <remarks>Choose <paramref name="usageSince"/> so that older usage no longer matters: the start of the
    /// longest budget period in force, or several fair-share half-lives back, whichever is earlier.</remarks>
    public Task<StoreSnapshot> LoadAsync(DateTimeOffset usageSince, CancellationToken cancellationToken = default) =>
        ReadAsync(async (c, t) =>
        {
            var accounts = await ListAsync(c, t, ReadAccount, """
                SELECT path, shares, guarantees, limits, budget_gpu_hours, budget_period, budget_action, priority_preemption,
                    kind, display_name, organisation_class
                FROM accounts
                """, cancellationToken).ConfigureAwait(false);
            // A parent's path is a prefix of its children's: depth, then name, puts parents first.
            accounts.Sort((a, b) =>
            {
                var depth = Depth(a.Path).CompareTo(Depth(b.Path));
                return depth != 0 ? depth : string.CompareOrdinal(a.Path, b.Path);
            });
            var members = await ListAsync(c, t, r => new Member(r.GetString(0), r.GetString(1), r.GetString(2)),
                "SELECT account, user_name, role FROM members ORDER BY account, user_name", cancellationToken).ConfigureAwait(false);
            var nodes = await ListAsync(c, t, ReadNode,
                "SELECT name, gpu_type, gpus, cpu_cores, memory_mb, block, state FROM nodes ORDER BY name", cancellationToken).ConfigureAwait(false);
            var jobs = await ListAsync(c, t, ReadJob,
                $"SELECT {JobColumns} FROM jobs WHERE state IN ('pending', 'held', 'preempted', 'running') ORDER BY id",
                cancellationToken).ConfigureAwait(false);
            var usage = await ListAsync(c, t, ReadUsage,
                $"SELECT {UsageColumns} FROM usage_records WHERE end_time IS NULL OR end_time >= @p0 ORDER BY start_time, job_id",
                cancellationToken, usageSince.UtcTicks).ConfigureAwait(false);
            using var last = Command(c, t, "SELECT COALESCE(MAX(id), 0) FROM jobs");
            var lastId = Convert.ToInt64(await last.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            return new StoreSnapshot(accounts, members, nodes, jobs, usage, lastId);
        }, cancellationToken);

    /// <summary>A job in any state, or null.</summary>
    public Task<StoredJob?> GetJobAsync(JobId id, CancellationToken cancellationToken = default) =>
        ReadAsync(async (c, t) =>
        {
            var jobs = await ListAsync(c, t, ReadJob, $"SELECT {JobColumns} FROM jobs WHERE id = @p0", cancellationToken, id.Value).ConfigureAwait(false);
            return jobs.Count == 0 ? null : jobs[0];
        }, cancellationToken);

    /// <summary>A page of jobs matching <paramref name="query"/>, newest first.</summary>
    public Task<IReadOnlyList<StoredJob>> ListJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 10_000) throw new ArgumentOutOfRangeException(nameof(query), query.Limit, "limit must be 1..10000");
        if (query.Projects is { Count: 0 }) return Task.FromResult<IReadOnlyList<StoredJob>>([]);
        var where = new List<string>();
        var values = new List<object?>();
        string Param(object? value)
        {
            values.Add(value);
            return string.Create(CultureInfo.InvariantCulture, $"@p{values.Count - 1}");
        }
        if (query.Projects is { } projects)
        {
            // A path matches itself and everything under it; LIKE's wildcards in a path are escaped.
            var any = projects.Select(p => $"(project = {Param(p)} OR project LIKE {Param(EscapeLike(p) + "/%")} ESCAPE '!')");
            where.Add("(" + string.Join(" OR ", any) + ")");
        }
        if (query.States is { Count: > 0 } states)
            where.Add("state IN (" + string.Join(", ", states.Distinct().Select(s => Param(s.ToText()))) + ")");
        if (query.User is { } user) where.Add($"user_name = {Param(user)}");
        if (query.BeforeId is { } before) where.Add($"id < {Param(before)}");
        var sql = $"SELECT {JobColumns} FROM jobs" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + string.Create(CultureInfo.InvariantCulture, $" ORDER BY id DESC LIMIT {query.Limit}");
        return ReadAsync<IReadOnlyList<StoredJob>>(async (c, t) => await ListAsync(c, t, ReadJob, sql, cancellationToken, values.ToArray()).ConfigureAwait(false),
            cancellationToken);
    }

    private static string EscapeLike(string value) =>
        value.Replace("!", "!!", StringComparison.Ordinal).Replace("%", "!%", StringComparison.Ordinal).Replace("_", "!_", StringComparison.Ordinal);

    /// <summary>A job's state changes, oldest first.</summary>
    public Task<IReadOnlyList<JobEvent>> GetJobEventsAsync(JobId id, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<JobEvent>>(async (c, t) => await ListAsync(c, t,
            r => new JobEvent(Long(r, 0), new JobId(Long(r, 1)), StoreCodec.Time(Long(r, 2)), JobStates.Parse(r.GetString(3)), NullableString(r, 4)),
            "SELECT seq, job_id, at, state, reason FROM job_events WHERE job_id = @p0 ORDER BY seq", cancellationToken, id.Value).ConfigureAwait(false),
            cancellationToken);

    /// <summary>Runs that overlap [<paramref name="from"/>, <paramref name="to"/>): what usage reports are built from.</summary>
    public Task<IReadOnlyList<UsageRecord>> GetUsageAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<UsageRecord>>(async (c, t) => await ListAsync(c, t, ReadUsage,
            $"SELECT {UsageColumns} FROM usage_records WHERE start_time < @p1 AND (end_time IS NULL OR end_time > @p0) ORDER BY start_time, job_id",
            cancellationToken, from.UtcTicks, to.UtcTicks).ConfigureAwait(false), cancellationToken);

    /// <summary>The token whose secret is <paramref name="secret"/>, looked up by its hash, unless it is revoked. An
    /// expired token is returned: the store has no clock of its own, so the caller compares
    /// <see cref="ApiToken.Expires"/> with its own (<see cref="ApiToken.IsExpired"/>).</summary>
    public Task<ApiToken?> FindTokenAsync(string secret, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var hash = TokenSecret.Hash(secret);
        return ReadAsync(async (c, t) =>
        {
            var tokens = await ListAsync(c, t, ReadToken,
                $"SELECT {TokenColumns} FROM api_tokens WHERE secret_hash = @p0 AND revoked_at IS NULL",
                cancellationToken, hash).ConfigureAwait(false);
            return tokens.Count == 0 ? null : tokens[0];
        }, cancellationToken);
    }

    /// <summary>Every token, revoked ones included (no secrets: the store has none).</summary>
    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<ApiToken>>(async (c, t) => await ListAsync(c, t, ReadToken,
            $"SELECT {TokenColumns} FROM api_tokens ORDER BY created_at, id", cancellationToken).ConfigureAwait(false),
            cancellationToken);

    // ------------------------------------------------------------------ row mapping
    // Values go through Convert: SQLite returns INTEGER as long, PostgreSQL returns INTEGER as int.

    private static long Long(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);

    private static int Int(DbDataReader r, int i) => Convert.ToInt32(r.GetValue(i), CultureInfo.InvariantCulture);

    private static long? NullableLong(DbDataReader r, int i) => r.IsDBNull(i) ? null : Long(r, i);

    private static string? NullableString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static int Depth(string path) => path.Count(ch => ch == '/');

    private static AccountSpec ReadAccount(DbDataReader r) => new(r.GetString(0))
    {
        Shares = Int(r, 1),
        Guarantee = StoreCodec.IntMap(r.GetString(2)),
        Limit = StoreCodec.IntMap(r.GetString(3)),
        Budget = r.IsDBNull(4) ? null : new Budget(Long(r, 4), StoreCodec.Period(r.GetString(5)), StoreCodec.Action(r.GetString(6))),
        PriorityPreemption = Int(r, 7) != 0,
        Kind = NullableString(r, 8) is { } kind ? StoreCodec.Kind(kind) : null,
        DisplayName = NullableString(r, 9),
        OrganisationClass = NullableString(r, 10) is { } oc ? StoreCodec.Class(oc) : null,
    };

    private static StoredNode ReadNode(DbDataReader r) =>
        new(new NodeSpec(r.GetString(0), r.GetString(1), Int(r, 2), Int(r, 3), Long(r, 4), r.GetString(5)), StoreCodec.NodeState(r.GetString(6)));

    private static StoredJob ReadJob(DbDataReader r)
    {
        var spec = new JobSpec(new JobId(Long(r, 0)), r.GetString(1), r.GetString(2), r.GetString(3), Int(r, 4), Int(r, 5),
            NullableString(r, 6), TimeSpan.FromTicks(Long(r, 7)), StoreCodec.Time(Long(r, 19)))
        {
            CpuPerNode = Int(r, 8),
            MemoryMbPerNode = Long(r, 9),
            Priority = StoreCodec.Priority(r.GetString(10)),
            Preemptible = Int(r, 11) != 0,
            GracePeriod = TimeSpan.FromTicks(Long(r, 12)),
            Requeue = Int(r, 13) != 0,
            PreemptionCount = Int(r, 25),
        };
        var command = new JobCommand(StoreCodec.StringList(r.GetString(14)), StoreCodec.StringMap(r.GetString(15)), NullableString(r, 16), NullableString(r, 17));
        var state = JobStates.Parse(r.GetString(18));
        var reason = NullableString(r, 27);
        return new StoredJob(spec, command, state)
        {
            StartTime = NullableLong(r, 20) is { } s ? StoreCodec.Time(s) : null,
            EndTime = NullableLong(r, 21) is { } e ? StoreCodec.Time(e) : null,
            AllocatedType = NullableString(r, 22),
            Allocations = StoreCodec.Allocations(NullableString(r, 23)),
            Borrowing = Int(r, 24) != 0,
            ExitCode = r.IsDBNull(26) ? null : Int(r, 26),
            Reason = reason,
            CancelledBy = NullableString(r, 28) ?? LegacyCancelledBy(state, reason),
        };
    }

    /// <summary>Who cancelled a job cancelled before schema version 4, which had no <c>cancelled_by</c> column: the
    /// scheduler wrote "cancelled by X" or "cancelled by X: why" as its reason. Rows written since have the column
    /// (NULL there and a reason of another form means the scheduler cancelled it), so this reads old rows only.</summary>
    internal static string? LegacyCancelledBy(JobState state, string? reason)
    {
        const string prefix = "cancelled by ";
        if (state != JobState.Cancelled || reason is null || !reason.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var rest = reason[prefix.Length..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? rest : rest[..colon];
    }

    private static UsageRecord ReadUsage(DbDataReader r) =>
        new(new JobId(Long(r, 0)), r.GetString(1), r.GetString(2), r.GetString(3), Int(r, 4), Int(r, 5) != 0,
            StoreCodec.Time(Long(r, 6)), NullableLong(r, 7) is { } end ? StoreCodec.Time(end) : null);

    private static ApiToken ReadToken(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), StoreCodec.StringList(r.GetString(3)), StoreCodec.Time(Long(r, 4)),
            NullableLong(r, 5) is { } revoked ? StoreCodec.Time(revoked) : null)
        {
            Expires = NullableLong(r, 6) is { } expires ? StoreCodec.Time(expires) : null,
        };
}
