using System.Data.Common;
using System.Globalization;
using System.Reflection;
using Mekong.Store.Backends;

namespace Mekong.Store.Schema;

/// <summary>Hand-written, numbered schema migrations (<c>Schema/NNNN_name.sql</c>, embedded). At open, every
/// script newer than the database's <c>schema_version</c> runs, in order, in one transaction with the
/// version rows, so a database is always at exactly one version. Re-opening applies nothing; a database
/// newer than this build is refused rather than misread.</summary>
internal static class Migrator
{
    private const string ResourcePrefix = "Mekong.Store.Schema.";

    /// <summary>The scripts this build carries, by version.</summary>
    public static IReadOnlyList<Migration> All { get; } = LoadScripts();

    public static int LatestVersion => All[^1].Version;

    /// <summary>Brings the database to <see cref="LatestVersion"/>; returns the version it was at.</summary>
    public static int Migrate(SqlDialect dialect, DbConnection connection, TimeProvider time)
    {
        using var transaction = connection.BeginTransaction();
        if (dialect.MigrationLockSql is { } lockSql) Execute(connection, transaction, lockSql);
        Execute(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_version (
                version     INTEGER PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at  BIGINT NOT NULL
            )
            """);
        int current;
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
            current = Convert.ToInt32(read.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        if (current > LatestVersion)
            throw new StoreException(
                $"the database is at schema version {current}, newer than this build of Mekong understands ({LatestVersion}); upgrade Mekong or use another store");

        foreach (var migration in All)
        {
            if (migration.Version <= current) continue;
            foreach (var statement in Statements(dialect.Expand(migration.Sql)))
                Execute(connection, transaction, statement);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, description, applied_at) VALUES (@v, @d, @t)";
            Add(record, "@v", migration.Version);
            Add(record, "@d", migration.Name);
            Add(record, "@t", time.GetUtcNow().UtcTicks);
            record.ExecuteNonQuery();
        }
        transaction.Commit();
        return current;
    }

    /// <summary>Splits a script at semicolons that end a line; the scripts keep no semicolons inside literals.</summary>
    internal static IEnumerable<string> Statements(string script)
    {
        var lines = script.Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal));
        var current = new List<string>();
        foreach (var line in lines)
        {
            var code = StripComment(line);
            current.Add(code);
            if (code.TrimEnd().EndsWith(';'))
            {
                var statement = string.Join('\n', current).Trim().TrimEnd(';');
                if (statement.Length > 0) yield return statement;
                current.Clear();
            }
        }
        var rest = string.Join('\n', current).Trim();
        if (rest.Length > 0) yield return rest;
    }

    private static string StripComment(string line)
    {
        var i = line.IndexOf("--", StringComparison.Ordinal);
        return i < 0 ? line : line[..i];
    }

    private static void Execute(DbConnection connection, DbTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    private static List<Migration> LoadScripts()
    {
        var assembly = typeof(Migrator).Assembly;
        var scripts = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            var file = resource[ResourcePrefix.Length..^".sql".Length];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore < 1 || !int.TryParse(file[..underscore], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                throw new InvalidOperationException($"migration '{file}' is not named NNNN_description.sql");
            scripts.Add(new Migration(version, file[(underscore + 1)..], Read(assembly, resource)));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < scripts.Count; i++)
            if (scripts[i].Version != i + 1)
                throw new InvalidOperationException($"migrations must be numbered 1, 2, 3… without gaps; found {scripts[i].Version} at position {i + 1}");
        if (scripts.Count == 0) throw new InvalidOperationException("no schema migrations are embedded");
        return scripts;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>One numbered schema script.</summary>
internal sealed record Migration(int Version, string Name, string Sql);
