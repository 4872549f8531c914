using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Mekong.Store.Backends;

/// <summary>SQLite: one file in WAL mode. Readers never block the writer and the writer never blocks readers.</summary>
/// <remarks><c>synchronous=FULL</c>: in WAL mode, NORMAL does not fsync the log at commit, so a power loss can
/// drop the last transactions — transactions the API has already acknowledged. FULL fsyncs the WAL once per
/// commit; group commit (<see cref="StoreWriter"/>) pays that once per batch, not once per submission, so
/// "durable before acknowledged" keeps its meaning at little cost (measured in the store README).</remarks>
internal sealed class SqliteDialect : SqlDialect
{
    private readonly string _connectionString;

    public SqliteDialect(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        };
        if (string.IsNullOrWhiteSpace(builder.DataSource) || builder.DataSource == ":memory:")
            throw new StoreException("a SQLite store needs a file path (an in-memory database would not be durable)");
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = builder.ToString();
    }

    public override StoreBackend Backend => StoreBackend.Sqlite;

    protected override string IdentityColumn => "INTEGER PRIMARY KEY AUTOINCREMENT";

    // BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default for BeginTransaction) takes the write lock.
    public override string? MigrationLockSql => null;

    public override async Task<DbConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    // Deferred: a WAL reader's snapshot starts at its first read and takes no write lock.
    public override Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));

    public override DbConnection OpenWriter()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA busy_timeout = 30000;
            """;
        command.ExecuteNonQuery();
        return connection;
    }

    public override ValueTask DisposeAsync()
    {
        // Pooled handles keep the file open (and the WAL un-checkpointed); release them with the store.
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
