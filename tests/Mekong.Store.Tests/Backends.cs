using Mekong.Policy;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Mekong.Store.Tests;

/// <summary>The same contract on a real SQLite file in a fresh temporary directory.</summary>
public sealed class SqliteStoreTests : StoreContractTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mekong-store-").FullName;

    protected override StoreBackend Backend => StoreBackend.Sqlite;

    protected override string StoreString => $"Data Source={Path.Combine(_directory, "mekong.db")}";

    protected override void ExecuteRaw(string sql)
    {
        using var connection = new SqliteConnection(StoreString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected override List<string> ReadAllText(string table)
    {
        using var connection = new SqliteConnection(StoreString);
        connection.Open();
        return ReadAll(connection, table);
    }

    /// <summary>Commits never checkpoint (that would stall every submission waiting on the commit); a background
    /// checkpointer copies the WAL into the database file while the store stays open.</summary>
    [Fact]
    public async Task The_log_is_checkpointed_into_the_database_file_in_the_background()
    {
        var file = Path.Combine(_directory, "mekong.db");
        await using var store = MekongStore.Open(StoreString, TimeProvider.System);
        await store.Writer.SetAccountAsync(new AccountSpec("uni-a"));
        await store.Writer.SetAccountAsync(new AccountSpec("uni-a/vision"));
        var command = new JobCommand(["sleep", "1"], new Dictionary<string, string>(), "/tmp", null);
        var before = new FileInfo(file).Length;
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => store.Writer.SubmitAsync(
            new JobSpec(default, "uni-a/vision", "alice", $"j{i}", 1, 1, "h100", TimeSpan.FromHours(1), DateTimeOffset.UnixEpoch), command)));
        using var committed = new SqliteConnection(StoreString);
        committed.Open();
        using (var wal = committed.CreateCommand())
        {
            wal.CommandText = "PRAGMA wal_autocheckpoint";
            Assert.Equal(1000L, (long)wal.ExecuteScalar()!); // a new connection keeps SQLite's default: only the writer's is off
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (new FileInfo(file).Length <= before && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(new FileInfo(file).Length > before, $"the database file stayed at {before} bytes: the log was never checkpointed");
    }

    /// <summary>The checkpointer copies the log only when something was committed since it last did.</summary>
    [Fact]
    public async Task An_idle_store_is_not_checkpointed_again_until_something_is_written()
    {
        await using var store = MekongStore.Open(StoreString, TimeProvider.System);
        var dialect = (Mekong.Store.Backends.SqliteDialect)store.Dialect;
        await store.Writer.SetAccountAsync(new AccountSpec("uni-a"));
        await Task.Delay(TimeSpan.FromSeconds(1)); // four ticks: whatever was written is copied by now
        var settled = dialect.Checkpoints;
        Assert.True(settled > 0, "no checkpoint ran after a write");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(settled, dialect.Checkpoints);
        await store.Writer.SetAccountAsync(new AccountSpec("uni-b"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (dialect.Checkpoints == settled && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(dialect.Checkpoints > settled, "a write was never checkpointed");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }
}

/// <summary>The same contract on a real PostgreSQL server, each test in its own fresh schema.</summary>
[Collection(nameof(PostgresGroup))]
public sealed class PostgresStoreTests : StoreContractTests, IDisposable
{
    private readonly PostgresServer _server;
    private readonly string _schema = $"t_{Guid.NewGuid():N}";

    public PostgresStoreTests(PostgresServer server)
    {
        _server = server;
        _server.Execute($"CREATE SCHEMA {_schema}");
    }

    protected override StoreBackend Backend => StoreBackend.Postgres;

    protected override string StoreString => new NpgsqlConnectionStringBuilder(_server.ConnectionString) { SearchPath = _schema }.ConnectionString;

    protected override void ExecuteRaw(string sql)
    {
        using var connection = new NpgsqlConnection(StoreString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected override List<string> ReadAllText(string table)
    {
        using var connection = new NpgsqlConnection(StoreString);
        connection.Open();
        return ReadAll(connection, table);
    }

    public void Dispose() => _server.Execute($"DROP SCHEMA {_schema} CASCADE");
}

[CollectionDefinition(nameof(PostgresGroup))]
public sealed class PostgresGroup : ICollectionFixture<PostgresServer>;

/// <summary>The PostgreSQL that scripts/start-postgres.sh installs and starts. Its absence is a failure, not a
/// skip: the store's promise is "the same tests on both".</summary>
public sealed class PostgresServer
{
    /// <summary>What scripts/start-postgres.sh creates and prints.</summary>
    public const string Default = "Host=127.0.0.1;Port=5432;Database=mekong_test;Username=mekong_test;Password=mekong_test";

    public PostgresServer()
    {
        var fromEnv = Environment.GetEnvironmentVariable("MEKONG_TEST_POSTGRES");
        ConnectionString = string.IsNullOrWhiteSpace(fromEnv) ? Default : fromEnv;
        try
        {
            Execute("SELECT 1");
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"PostgreSQL is not reachable at '{StoreLocation.Redact(ConnectionString)}' ({e.Message}). " +
                "Run scripts/start-postgres.sh (as root) or set MEKONG_TEST_POSTGRES to a reachable server's connection string.", e);
        }
    }

    public string ConnectionString { get; }

    public void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
