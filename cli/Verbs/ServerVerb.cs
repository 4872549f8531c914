using System.CommandLine;
using System.Net.Sockets;
using Mekong.Policy;
using Mekong.Scheduler;
using Mekong.Simulation;
using Mekong.Simulation.Setup;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong server</c>: runs the scheduler until SIGINT or SIGTERM. On a store with no admin token,
/// <c>--bootstrap-token-file</c> issues one and writes it there (mode 0600), so the first admin has a way in.
/// </summary>
internal static class ServerVerb
{
    public static Command Create(VerbHost host)
    {
        var store = new Option<string>("--store") { Description = "SQLite file path, or a connection string (\"Data Source=…\" for SQLite, \"Host=…;Database=…\" for PostgreSQL)", DefaultValueFactory = _ => "Data Source=./.mekong/mekong.db", HelpName = "STORE" };
        var listen = new Option<string>("--listen") { Description = "gRPC endpoint (cleartext HTTP/2)", DefaultValueFactory = _ => "127.0.0.1:7070", HelpName = "ADDRESS:PORT" };
        var http = new Option<string?>("--http") { Description = "JSON over HTTP/1.1 endpoint, e.g. 127.0.0.1:7071; default none", HelpName = "ADDRESS:PORT" };
        var bootstrap = new Option<string?>("--bootstrap-token-file") { Description = "when the store has no admin token, issue one and write it to FILE (mode 0600)", HelpName = "FILE" };
        var jwtIssuer = new Option<string?>("--jwt-issuer") { Description = "issuer a JWT must carry", HelpName = "ISSUER" };
        var jwtAudience = new Option<string?>("--jwt-audience") { Description = "audience a JWT must carry", HelpName = "AUDIENCE" };
        var jwtKey = new Option<string?>("--jwt-key-file") { Description = "HS256 secret or RSA public key (PEM); turns JWT validation on", HelpName = "FILE" };
        var set = PolicySet();
        var verb = new Command("server", "run the scheduler until SIGINT or SIGTERM");
        foreach (var o in new Option[] { store, listen, http, bootstrap, jwtIssuer, jwtAudience, jwtKey, set }) verb.Options.Add(o);

        host.SetAction(verb, async context =>
        {
            var options = new SchedulerOptions
            {
                Store = StoreConnection(context.Get(store)!),
                Listen = context.Get(listen)!,
                HttpListen = context.Get(http),
                JwtIssuer = context.Get(jwtIssuer),
                JwtAudience = context.Get(jwtAudience),
                JwtKeyFile = context.Get(jwtKey),
                Policy = Policy(context.Get(set)),
            };
            if (options.JwtKeyFile is { } key && !File.Exists(key)) throw new UsageException($"--jwt-key-file {key}: no such file");
            await using var scheduler = await Start(options, context.Cancellation).ConfigureAwait(false);
            await context.Error.WriteLineAsync($"mekong server: listening on {scheduler.Address}" + (scheduler.HttpAddress is { } h ? $", JSON on {h}" : "")).ConfigureAwait(false);
            await context.Error.WriteLineAsync($"mekong server: policy {SettingsOverrides.Describe(scheduler.Policy)}").ConfigureAwait(false);
            if (context.Get(bootstrap) is { } file && !await scheduler.HasAdminTokenAsync().ConfigureAwait(false))
            {
                var secret = await scheduler.IssueTokenAsync("admin", ["admin"], "bootstrap").ConfigureAwait(false);
                WriteSecret(file, secret);
                await context.Error.WriteLineAsync($"mekong server: issued the first admin token (user admin) into {file}").ConfigureAwait(false);
            }

            await scheduler.WaitForShutdownAsync(context.Cancellation).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    /// <summary><c>--set key=value</c>, repeatable: the policy settings (DESIGN.md's defaults for the rest).</summary>
    internal static Option<string[]> PolicySet() => new("--set")
    {
        Description = "policy setting key=value, repeatable: halfLife=7d, reservations=16, maxPreemptions=3, borrowBeyondFairShare=1.5, " +
            "borrowAnySizeBelowShare=0.5, reclaimVictimOrder=least-work-lost|fair-share, weight.TYPE=2 (the defaults shown)",
        AllowMultipleArgumentsPerToken = false,
        HelpName = "KEY=VALUE",
    };

    internal static PolicySettings Policy(string[]? overrides)
    {
        try
        {
            return SettingsOverrides.Apply(new PolicySettings(), overrides ?? []);
        }
        catch (SimulationInputException e)
        {
            throw new UsageException(e.Message, e);
        }
    }

    /// <summary>Starts the host, with the failures a person can fix said in one line.</summary>
    internal static async Task<SchedulerHost> Start(SchedulerOptions options, CancellationToken cancellation)
    {
        CreateSqliteDirectory(options.Store);
        try
        {
            return await SchedulerHost.StartAsync(options, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or PolicyException)
        {
            throw new UsageException(e.Message, e);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"cannot listen on {options.Listen}: address already in use (is another scheduler running?)", e);
        }
    }

    /// <summary>A bare path is a SQLite file; anything with '=' is a connection string.</summary>
    internal static string StoreConnection(string store) =>
        store.Contains('=', StringComparison.Ordinal) ? store : "Data Source=" + store;

    private static void CreateSqliteDirectory(string connection)
    {
        const string prefix = "Data Source=";
        if (!connection.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return;
        var path = connection[prefix.Length..].Split(';')[0].Trim();
        if (path.Length == 0 || path == ":memory:") return;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
    }

    /// <summary>Writes a secret readable only by its owner.</summary>
    internal static void WriteSecret(string path, string secret)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(secret + "\n");
        }

        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
