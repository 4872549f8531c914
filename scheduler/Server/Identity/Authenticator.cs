using System.Collections.Concurrent;
using Mekong.Store;
using Mekong.Transport;

namespace Mekong.Scheduler.Identity;

/// <summary>Turns a call's <c>authorization: Bearer …</c> into a <see cref="Caller"/>: an API token looked up by
/// its hash in the store (cached briefly, never past the token's expiry; revocation clears the cache at once),
/// or a JWT when configured. An expired token is refused like an unknown one.</summary>
public sealed class Authenticator(MekongStore store, JwtValidator? jwt, TimeProvider time)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (Caller Caller, string TokenId, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    /// <summary>The caller, or UNAUTHENTICATED.</summary>
    public async Task<Caller> AuthenticateAsync(CallContext context)
    {
        var header = context.RequestHeaders.Get("authorization");
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new RpcException(StatusCode.Unauthenticated, "missing bearer token (authorization: Bearer <token>)");
        var token = header["Bearer ".Length..].Trim();
        if (token.Length == 0) throw new RpcException(StatusCode.Unauthenticated, "empty bearer token");
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(token, out var hit) && hit.Until > now) return hit.Caller;
        if (jwt is not null && JwtValidator.LooksLikeJwt(token))
        {
            var (caller, error) = jwt.Validate(token);
            return caller ?? throw new RpcException(StatusCode.Unauthenticated, error!);
        }
        if (token.Length > 256) throw new RpcException(StatusCode.Unauthenticated, "unknown or revoked token");
        var stored = await store.FindTokenAsync(token, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Unauthenticated, "unknown or revoked token");
        if (stored.IsExpired(now))
        {
            _cache.TryRemove(token, out _);
            throw new RpcException(StatusCode.Unauthenticated, $"token {stored.Id} has expired");
        }
        var found = Caller.FromRoles(stored.Subject, stored.Roles);
        // The entry goes when the token does: a cached caller must never outlive the token's expiry.
        var until = now + CacheFor;
        if (stored.Expires is { } expires && expires < until) until = expires;
        _cache[token] = (found, stored.Id, until);
        return found;
    }

    /// <summary>Forgets cached tokens with this id (after a revocation).</summary>
    public void Forget(string tokenId)
    {
        foreach (var (key, value) in _cache)
            if (value.TokenId == tokenId) _cache.TryRemove(key, out _);
    }
}
