namespace Mekong.Store;

/// <summary>An issued API token as stored: never the secret, only its SHA-256.</summary>
public sealed record ApiToken(string Id, string Name, string Subject, IReadOnlyList<string> Roles, DateTimeOffset Created, DateTimeOffset? Revoked)
{
    /// <summary>When it stops working; null means never.</summary>
    public DateTimeOffset? Expires { get; init; }

    public bool IsRevoked => Revoked is not null;

    /// <summary>Whether it has stopped working by <paramref name="now"/> (it works until, not at, its expiry).</summary>
    public bool IsExpired(DateTimeOffset now) => Expires is { } expires && expires <= now;
}

/// <summary>What <see cref="StoreWriter.IssueTokenAsync"/> returns: the only time the secret is ever seen.</summary>
public sealed record IssuedToken(ApiToken Token, string Secret);
