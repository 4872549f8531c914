using System.Data.Common;

namespace Mekong.Store;

/// <summary>Where a store lives, parsed from the <c>--store</c> string: <c>Host=…</c> is PostgreSQL;
/// <c>Data Source=path</c> (or any other SQLite connection string) or a bare path is a SQLite file.</summary>
public sealed record StoreLocation(StoreBackend Backend, string ConnectionString)
{
    public static StoreLocation Parse(string store)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(store);
        store = store.Trim();
        if (!store.Contains('=', StringComparison.Ordinal))
            return new StoreLocation(StoreBackend.Sqlite, $"Data Source={store}");

        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = store;
        }
        catch (ArgumentException e)
        {
            throw new StoreException($"store '{Redact(store)}' is neither a path nor a connection string: {e.Message}", e);
        }
        if (builder.ContainsKey("Host") || builder.ContainsKey("Server"))
            return new StoreLocation(StoreBackend.Postgres, store);
        if (builder.ContainsKey("Data Source") || builder.ContainsKey("DataSource") || builder.ContainsKey("Filename"))
            return new StoreLocation(StoreBackend.Sqlite, store);
        throw new StoreException($"store '{Redact(store)}' names neither Host= (PostgreSQL) nor Data Source= (SQLite)");
    }

    /// <summary>The string without its password, for messages and logs.</summary>
    public static string Redact(string store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!store.Contains('=', StringComparison.Ordinal)) return store;
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = store };
            foreach (var key in new[] { "Password", "Pwd" })
                if (builder.ContainsKey(key)) builder[key] = "***";
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }
    }

    public override string ToString() => $"{Backend}: {Redact(ConnectionString)}";
}
