namespace Mekong.Scheduler;

/// <summary>How the scheduler runs: where it keeps its state, where it listens, whom it trusts.</summary>
public sealed class SchedulerOptions
{
    /// <summary>"Data Source=path.db" (SQLite, the embedded default) or "Host=…;Database=…" (PostgreSQL).</summary>
    public string Store { get; set; } = "Data Source=.mekong/mekong.db";

    /// <summary>The gRPC endpoint, cleartext HTTP/2 ("127.0.0.1:7070"); port 0 takes any free port. The JSON
    /// routes answer here too, over HTTP/2.</summary>
    public string Listen { get; set; } = "127.0.0.1:7070";

    /// <summary>An HTTP/1.1 endpoint for the JSON API (curl, scripts, the dashboard), or null for none.</summary>
    public string? HttpListen { get; set; }

    /// <summary>Issuer a JWT must carry (the centre's identity provider); JWT validation is on when a key file is given.</summary>
    public string? JwtIssuer { get; set; }

    /// <summary>Audience a JWT must carry.</summary>
    public string? JwtAudience { get; set; }

    /// <summary>HS256 shared secret (the file's bytes) or an RSA public key in PEM (RS256).</summary>
    public string? JwtKeyFile { get; set; }

    /// <summary>Longest walltime a job may ask for.</summary>
    public TimeSpan MaxWalltime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Longest lifetime an API token may be issued with (IssueToken's ttl); a token issued without one
    /// never expires.</summary>
    public TimeSpan MaxTokenTtl { get; set; } = TimeSpan.FromDays(366);

    /// <summary>Walltime of a job submitted without one; null makes spec.walltime required.</summary>
    public TimeSpan? DefaultWalltime { get; set; }

    /// <summary>A node whose agent has sent nothing for this long is marked down and its jobs requeued.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often agents send a heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often agents report usage.</summary>
    public TimeSpan UsageInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a full scheduling pass refreshes every pending job's explanation and estimated start.</summary>
    public TimeSpan FullPassInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest request message (bytes); larger requests are RESOURCE_EXHAUSTED.</summary>
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Where job output forwarded by the agents is kept; null puts it in "logs" beside a SQLite store
    /// file, or in ./.mekong/logs for PostgreSQL.</summary>
    public string? LogDirectory { get; set; }

    /// <summary>The clock everything in the scheduler reads (the core, the store's timestamps, token expiry);
    /// null for the system clock. Tests pass one they move by hand.</summary>
    public TimeProvider? Time { get; set; }

    /// <summary>Policy settings (fair-share half-life, reservations, …); null for the defaults.</summary>
    public Policy.PolicySettings? Policy { get; set; }
}
