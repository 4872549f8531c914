using System.Data.Common;
using Mekong.Store.Backends;

namespace Mekong.Store.Writing;

/// <summary>The writer's one connection and its current transaction. Commands are created once per SQL text
/// and reused, so SQLite keeps each statement prepared and Npgsql auto-prepares them server-side.
/// Parameters are positional by convention: <c>@p0</c>, <c>@p1</c>, … in the order the values are given.</summary>
internal sealed class WriteSession : IDisposable
{
    private readonly SqlDialect _dialect;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
    private DbConnection _connection;
    private DbTransaction? _transaction;
    private DbBatch? _deferred;

    public WriteSession(SqlDialect dialect)
    {
        _dialect = dialect;
        _connection = dialect.OpenWriter();
    }

    public StoreBackend Backend => _dialect.Backend;

    public void Begin()
    {
        if (_connection.State != System.Data.ConnectionState.Open) Reconnect();
        _transaction = _connection.BeginTransaction();
    }

    public void Commit()
    {
        FlushDeferred();
        _transaction!.Commit();
        EndTransaction();
        _dialect.Committed();
    }

    public void Rollback()
    {
        try
        {
            if (_connection.State == System.Data.ConnectionState.Open) _transaction?.Rollback();
        }
        catch (DbException)
        {
            // The connection broke mid-transaction: the server rolled back already. Reconnect on next Begin.
        }
        catch (InvalidOperationException)
        {
            // Already completed by the provider after a fatal error.
        }
        EndTransaction();
    }

    public void Savepoint(string name) => _transaction!.Save(name);

    public void ReleaseSavepoint(string name) => _transaction!.Release(name);

    public void RollbackToSavepoint(string name)
    {
        _deferred?.Dispose();
        _deferred = null;
        _transaction!.Rollback(name);
    }

    public int Execute(string sql, params ReadOnlySpan<object?> values)
    {
        FlushDeferred();
        return Bind(sql, values).ExecuteNonQuery();
    }

    /// <summary>A statement whose row count nobody needs. Where the provider pipelines (Npgsql's DbBatch),
    /// deferred statements travel to the server together — one round trip for a whole batch of submissions
    /// instead of two per submission — at the next <see cref="Execute"/>, <see cref="FlushDeferred"/> or
    /// <see cref="Commit"/>. Elsewhere (SQLite, in-process) it runs at once.</summary>
    public void ExecuteDeferred(string sql, params ReadOnlySpan<object?> values)
    {
        if (!_connection.CanCreateBatch)
        {
            Bind(sql, values).ExecuteNonQuery();
            return;
        }
        _deferred ??= _connection.CreateBatch();
        var command = _deferred.CreateBatchCommand();
#pragma warning disable CA2100 // The store's own constant SQL; every value goes through a parameter.
        command.CommandText = sql;
#pragma warning restore CA2100
        for (var i = 0; i < values.Length; i++)
        {
            var p = command.CreateParameter();
            p.ParameterName = ParameterNames.Get(i);
            p.Value = values[i] ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        _deferred.BatchCommands.Add(command);
    }

    /// <summary>Sends the deferred statements; a failure among them surfaces here.</summary>
    public void FlushDeferred()
    {
        if (_deferred is not { } batch) return;
        _deferred = null;
        using (batch)
        {
            batch.Transaction = _transaction;
            batch.ExecuteNonQuery();
        }
    }

    public object? Scalar(string sql, params ReadOnlySpan<object?> values)
    {
        FlushDeferred();
        var result = Bind(sql, values).ExecuteScalar();
        return result is DBNull ? null : result;
    }

    private DbCommand Bind(string sql, ReadOnlySpan<object?> values)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
#pragma warning disable CA2100 // The store's own constant SQL; every value goes through a parameter.
            command.CommandText = sql;
#pragma warning restore CA2100
            for (var i = 0; i < values.Length; i++)
            {
                var p = command.CreateParameter();
                p.ParameterName = ParameterNames.Get(i);
                command.Parameters.Add(p);
            }
            _commands.Add(sql, command);
        }
        command.Transaction = _transaction;
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
        return command;
    }

    private void EndTransaction()
    {
        _deferred?.Dispose();
        _deferred = null;
        _transaction?.Dispose();
        _transaction = null;
    }

    private void Reconnect()
    {
        DisposeCommands();
        _connection.Dispose();
        _connection = _dialect.OpenWriter();
    }

    private void DisposeCommands()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
    }

    public void Dispose()
    {
        EndTransaction();
        DisposeCommands();
        _connection.Dispose();
    }

    private static class ParameterNames
    {
        private static readonly string[] Names = Enumerable.Range(0, 64).Select(i => $"@p{i}").ToArray();

        public static string Get(int i) => i < Names.Length ? Names[i] : $"@p{i}";
    }
}
