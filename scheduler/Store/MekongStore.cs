using System.Data.Common;
using System.Globalization;
using Mekong.Policy;
using Mekong.Store.Backends;
using Mekong.Store.Schema;

namespace Mekong.Store;

/// <summary>The scheduler's durable store: SQLite or PostgreSQL behind one code path. Opening migrates the
/// schema; <see cref="Writer"/> takes every mutation (group commit, durable before acknowledged); the read
/// methods serve restart (<see cref="LoadAsync"/>), job history and token lookup.</summary>
/// <remarks>One process writes a store at a time: the writer's job-id counter is seeded at open.</remarks>
public sealed partial class MekongStore : IAsyncDisposable
{
    private readonly SqlDialect _dialect;

    /// <summary>For tests: the backend's own part.</summary>
    internal SqlDialect Dialect => _dialect;

    private MekongStore(StoreLocation location, SqlDialect dialect, StoreWriter writer, int previousVersion)
    {
        Location = location;
        _dialect = dialect;
        Writer = writer;
        PreviousSchemaVersion = previousVersion;
    }

    public StoreLocation Location { get; }

    public StoreBackend Backend => Location.Backend;

    /// <summary>Where every change goes.</summary>
    public StoreWriter Writer { get; }

    /// <summary>The schema version the database had before this open (0: it was empty).</summary>
    public int PreviousSchemaVersion { get; }

    /// <summary>The schema version this build writes.</summary>
    public static int SchemaVersion => Migrator.LatestVersion;

    /// <summary>Opens (creating and migrating as needed) the store named by <paramref name="store"/>:
    /// a path or <c>Data Source=path</c> for SQLite, <c>Host=…</c> for PostgreSQL.</summary>
    public static MekongStore Open(string store, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var location = StoreLocation.Parse(store);
        var dialect = SqlDialect.Create(location);
        try
        {
            int previous;
            long lastJobId;
            using (var connection = dialect.OpenWriter())
            {
                previous = Migrator.Migrate(dialect, connection, time);
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT COALESCE(MAX(id), 0) FROM jobs";
                lastJobId = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            }
            return new MekongStore(location, dialect, new StoreWriter(dialect, lastJobId, time), previous);
        }
        catch (Exception e) when (e is not StoreException)
        {
            dialect.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new StoreException($"cannot open the store {location}: {e.Message}", e);
        }
        catch
        {
            dialect.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Commits what is queued, then closes the writer and the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Writer.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await _dialect.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<T> ReadAsync<T>(Func<DbConnection, DbTransaction, Task<T>> read, CancellationToken cancellationToken)
    {
        var connection = await _dialect.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await _dialect.BeginReadAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var result = await read(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, params ReadOnlySpan<object?> values)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // The store's own constant SQL; every value goes through a parameter.
        command.CommandText = sql;
#pragma warning restore CA2100
        for (var i = 0; i < values.Length; i++)
        {
            var p = command.CreateParameter();
            p.ParameterName = string.Create(CultureInfo.InvariantCulture, $"@p{i}");
            p.Value = values[i] ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    private static async Task<List<T>> ListAsync<T>(DbConnection c, DbTransaction t, Func<DbDataReader, T> map, string sql, CancellationToken ct, params object?[] values)
    {
        using var command = Command(c, t, sql, values);
        var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            var list = new List<T>();
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(map(reader));
            return list;
        }
    }
}
