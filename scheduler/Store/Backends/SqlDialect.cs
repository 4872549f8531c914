using System.Data.Common;

namespace Mekong.Store.Backends;

/// <summary>Everything that differs between SQLite and PostgreSQL, in one place: how connections are made
/// and set up, the one DDL token the schema scripts use, and how migrations are serialised. All SQL
/// elsewhere is written once, in the common subset (<c>@name</c> parameters, <c>ON CONFLICT … DO UPDATE</c>,
/// partial indexes, BIGINT/INTEGER/TEXT columns).</summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    public abstract StoreBackend Backend { get; }

    /// <summary>DDL for an auto-numbered BIGINT primary key column (replaces <c>{identity}</c> in scripts).</summary>
    protected abstract string IdentityColumn { get; }

    /// <summary>Statement run first in the migration transaction so two processes never migrate at once;
    /// null where opening the transaction already takes the write lock.</summary>
    public abstract string? MigrationLockSql { get; }

    /// <summary>The writer committed a transaction (SQLite's checkpointer then has the log to copy).</summary>
    public virtual void Committed()
    {
    }

    public static SqlDialect Create(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Backend switch
        {
            StoreBackend.Sqlite => new SqliteDialect(location.ConnectionString),
            StoreBackend.Postgres => new PostgresDialect(location.ConnectionString),
            _ => throw new StoreException($"unknown backend {location.Backend}"),
        };
    }

    /// <summary>A connection for reads, opened.</summary>
    public abstract Task<DbConnection> OpenReaderAsync(CancellationToken cancellationToken);

    /// <summary>The writer's (and the migrator's) connection, opened and set up for durable writes.</summary>
    public abstract DbConnection OpenWriter();

    /// <summary>A read-only transaction that sees one consistent snapshot and never blocks the writer.</summary>
    public abstract Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken);

    public string Expand(string sql) => sql.Replace("{identity}", IdentityColumn, StringComparison.Ordinal);

    public abstract ValueTask DisposeAsync();
}
