using System.Net;
using Mekong.Policy;
using Mekong.Scheduler.Services;
using Mekong.Scheduler.Core;
using Mekong.Scheduler.Events;
using Mekong.Scheduler.Identity;
using Mekong.Store;
using Mekong.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mekong.Scheduler;

/// <summary>
/// The scheduler process: opens the store (migrating it), rebuilds the policy core from it, starts the
/// scheduler loop, and serves the API on Kestrel — gRPC on a cleartext HTTP/2 endpoint and, optionally,
/// JSON on an HTTP/1.1 endpoint.
/// </summary>
public sealed class SchedulerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly MekongStore _store;
    private readonly SchedulerCore _core;
    private readonly JwtValidator? _jwt;
    /// <summary>Cancelled when the host stops: ends the agents' endless streams (see AgentApi).</summary>
    private readonly CancellationTokenSource _stopping;
    private int _disposed;

    private SchedulerHost(WebApplication app, MekongStore store, SchedulerCore core, JwtValidator? jwt, Uri address, Uri? httpAddress, CancellationTokenSource stopping)
    {
        _stopping = stopping;
        _app = app;
        _store = store;
        _core = core;
        _jwt = jwt;
        Address = address;
        HttpAddress = httpAddress;
    }

    /// <summary>The gRPC address actually bound, e.g. http://127.0.0.1:7070.</summary>
    public Uri Address { get; }

    /// <summary>The HTTP/1.1 JSON address, when one was asked for.</summary>
    public Uri? HttpAddress { get; }

    /// <summary>The policy settings the scheduler runs with.</summary>
    public PolicySettings Policy { get; private init; } = new();

    public static async Task<SchedulerHost> StartAsync(SchedulerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = options.Time ?? TimeProvider.System;
        var store = MekongStore.Open(options.Store, time);
        try
        {
            var engine = new PolicyEngine(options.Policy ?? new PolicySettings(), time);
            // Usage older than a few half-lives no longer moves fair share; budgets look back at most a year.
            var since = time.GetUtcNow() - TimeSpan.FromDays(Math.Max(366, 8 * engine.Settings.UsageHalfLife.TotalDays));
            var snapshot = await store.LoadAsync(since, cancellationToken).ConfigureAwait(false);
            snapshot.RestoreInto(engine);

            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            // Log lines go to stderr: stdout is for what a command prints (tokens, ids).
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            // Hosting starts an Activity and a log scope for every request whenever its logger is enabled at any
            // level; it logs only request starts and ends (Information), so off, it costs nothing per call.
            builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
            builder.WebHost.UseKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = options.MaxRequestBytes + 1024;
                var grpc = ParseEndpoint(options.Listen, "listen");
                // Cleartext HTTP/2 needs an HTTP/2-only endpoint (prior knowledge, no upgrade).
                k.Listen(grpc, l => l.Protocols = HttpProtocols.Http2);
                if (options.HttpListen is { } http) k.Listen(ParseEndpoint(http, "http"), l => l.Protocols = HttpProtocols.Http1);
            });
            var app = builder.Build();
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Mekong.Scheduler");
            var events = new JobEventHub(time);
            var logs = new Logs.JobLogStore(options.LogDirectory ?? DefaultLogDirectory(store.Location));
            var core = new SchedulerCore(engine, snapshot, store, events, logs, options, time, logger);
            var jwt = options.JwtKeyFile is { } key ? new JwtValidator(key, options.JwtIssuer, options.JwtAudience, time) : null;
            var auth = new Authenticator(store, jwt, time);
            var access = new Access(new Membership(snapshot.Members));
            var rpc = new RpcServerOptions { MaxReceiveMessageSize = options.MaxRequestBytes };
            var stopping = new CancellationTokenSource();
            app.MapRpcServices(rpc,
                new JobApi(core, store, auth, access, events, logs, options, time).Definition(),
                new AdminApi(core, store, auth, access, options).Definition(),
                new AgentApi(core, auth, logs, options, logger, stopping.Token).Definition());
            app.MapGet("/healthz", () => "ok");
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToArray();
            var address = addresses[0];
            var httpAddress = options.HttpListen is null ? null : addresses[^1];
            Log.Started(logger, address, store.Backend.ToString(), snapshot.Jobs.Count, snapshot.Nodes.Count, snapshot.Accounts.Count);
            return new SchedulerHost(app, store, core, jwt, address, httpAddress, stopping) { Policy = engine.Settings };
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Scheduling decisions made since start, the time they took, and work items the loop ran.</summary>
    public (long Decisions, TimeSpan DecisionTime, long Items) LoopStatistics => _core.Statistics;

    /// <summary>Issues an API token directly through the store (bootstrap: the first admin token has no one to
    /// ask). Returns the secret, which is never shown again.</summary>
    public async Task<string> IssueTokenAsync(string subject, IReadOnlyList<string> roles, string name)
    {
        var issued = await _store.Writer.IssueTokenAsync(name, subject, roles).ConfigureAwait(false);
        return issued.Secret;
    }

    /// <summary>Whether some live token carries the admin role.</summary>
    public async Task<bool> HasAdminTokenAsync() =>
        (await _store.ListTokensAsync().ConfigureAwait(false)).Any(t => !t.IsRevoked && t.Roles.Contains(Caller.AdminRole));

    /// <summary>Completes when the host is asked to stop (SIGINT/SIGTERM through the generic host, or
    /// <paramref name="cancellationToken"/>); it keeps serving until <see cref="DisposeAsync"/>, so that a caller
    /// can wind down what depends on it first (<c>mekong dev</c> stops its local agents' jobs).</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var bySignal = _app.Lifetime.ApplicationStopping.Register(() => asked.TrySetResult());
        using var byCaller = cancellationToken.Register(() => asked.TrySetResult());
        await asked.Task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _core.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
        _jwt?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>"logs" beside a SQLite file; ./.mekong/logs for a server database.</summary>
    private static string DefaultLogDirectory(StoreLocation location)
    {
        if (location.Backend != StoreBackend.Sqlite) return Path.Combine(".mekong", "logs");
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = location.ConnectionString };
        var file = (builder.TryGetValue("Data Source", out var a) ? a : builder.TryGetValue("DataSource", out var b) ? b : builder.TryGetValue("Filename", out var c) ? c : null) as string;
        return file is null or "" or ":memory:" ? Path.Combine(".mekong", "logs") : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "logs");
    }

    private static IPEndPoint ParseEndpoint(string text, string what)
    {
        var value = text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? new Uri(text).Authority : text;
        if (value.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase)) value = "127.0.0.1:" + value["localhost:".Length..];
        return IPEndPoint.TryParse(value, out var endpoint) && endpoint.Port is >= 0 and <= 65535
            ? endpoint
            : throw new ArgumentException($"{what}: '{text}' is not an address:port such as 127.0.0.1:7070");
    }
}
