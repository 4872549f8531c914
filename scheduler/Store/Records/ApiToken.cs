namespace Mekong.Store;

/// <summary>An issued API token as stored: never the secret, only its SHA-256.</summary>
public sealed record ApiToken(string Id, string Name, string Subject, IReadOnlyList<string> Roles, DateTimeOffset Created, DateTimeOffset? Revoked)
{
    public bool IsRevoked => Revoked is not null;
}

/// <summary>What <see cref="StoreWriter.IssueTokenAsync"/> returns: the only time the secret is ever seen.</summary>
public sealed record IssuedToken(ApiToken Token, string Secret);
