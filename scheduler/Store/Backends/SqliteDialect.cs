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
    /// <summary>How often the background checkpointer copies the WAL into the database file.</summary>
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(250);

    private readonly string _connectionString;
    private readonly Lock _checkpointLock = new();
    private Timer? _checkpointer;
    private SqliteConnection? _checkpointConnection;
    private bool _disposed;

    /// <summary>1 while the log may hold commits not yet copied into the database file (migrations may have
    /// written before the writer opened): an idle store is not checkpointed over and over.</summary>
    private int _logDirty = 1;

    /// <summary>Checkpoints run (for tests).</summary>
    internal int Checkpoints { get; private set; }

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
            PRAGMA wal_autocheckpoint = 0;
            """;
        command.ExecuteNonQuery();
        StartCheckpointer();
        return connection;
    }

    /// <summary>SQLite's automatic checkpoint runs inside the commit that crosses its threshold, so that commit —
    /// and every submission waiting on it — would wait for the WAL to be copied into the database and fsynced.
    /// The writer turns it off, and a timer checkpoints from its own connection instead (PASSIVE: it never waits
    /// for the writer or for readers, and copies what it can).</summary>
    private void StartCheckpointer()
    {
        lock (_checkpointLock)
        {
            if (_checkpointer is not null || _disposed) return;
            _checkpointer = new Timer(_ => Checkpoint(), null, CheckpointEvery, CheckpointEvery);
        }
    }

    public override void Committed() => Volatile.Write(ref _logDirty, 1);

    private void Checkpoint()
    {
        lock (_checkpointLock)
        {
            if (_disposed || Interlocked.Exchange(ref _logDirty, 0) == 0) return;
            Checkpoints++;
            try
            {
                if (_checkpointConnection is null)
                {
                    _checkpointConnection = new SqliteConnection(_connectionString);
                    _checkpointConnection.Open();
                }
                using var command = _checkpointConnection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                using var result = command.ExecuteReader();
                // One row: busy, frames in the log, frames copied. A reader holding an old snapshot can leave
                // frames behind: then the next tick tries again even if nothing more is written.
                if (!result.Read() || result.GetInt64(0) != 0 || result.GetInt64(2) < result.GetInt64(1)) Committed();
            }
            catch (SqliteException)
            {
                // Busy or briefly unavailable: the next tick tries again; the WAL only grows meanwhile.
                Committed();
                _checkpointConnection?.Dispose();
                _checkpointConnection = null;
            }
        }
    }

    public override ValueTask DisposeAsync()
    {
        lock (_checkpointLock)
        {
            _disposed = true;
            _checkpointer?.Dispose();
            _checkpointConnection?.Dispose();
        }
        // Pooled handles keep the file open (and the WAL un-checkpointed); release them with the store.
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
