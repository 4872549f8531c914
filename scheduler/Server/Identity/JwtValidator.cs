using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Mekong.Scheduler.Identity;

/// <summary>Validates bearer JWTs from the centre's identity provider: compact JWS, HS256 with a shared
/// secret or RS256 with the provider's RSA public key; <c>exp</c>/<c>nbf</c> (60 s skew), <c>iss</c> and
/// <c>aud</c> when configured. The user is <c>sub</c>; roles come from a <c>roles</c> claim (string or array).</summary>
/// <remarks>Written by hand because the JwtBearer package does not restore from this registry; it does
/// only what the scheduler needs and refuses everything else (no "none", no algorithm switching).</remarks>
public sealed class JwtValidator : IDisposable
{
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(60);
    private readonly byte[]? _secret;
    private readonly RSA? _rsa;
    private readonly string? _issuer;
    private readonly string? _audience;
    private readonly TimeProvider _time;

    public JwtValidator(string keyFile, string? issuer, string? audience, TimeProvider time)
    {
        var bytes = File.ReadAllBytes(keyFile);
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            _rsa = RSA.Create();
            _rsa.ImportFromPem(text);
        }
        else
        {
            _secret = Encoding.UTF8.GetBytes(text.Trim());
            if (_secret.Length < 32) throw new InvalidOperationException($"JWT key file {keyFile}: an HS256 secret needs at least 32 bytes");
        }
        _issuer = issuer;
        _audience = audience;
        _time = time;
    }

    /// <summary>Whether a bearer value is shaped like a JWT (three base64url parts).</summary>
    public static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2;

    /// <summary>The caller the token names, or a reason it is refused.</summary>
    public (Caller? Caller, string? Error) Validate(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return (null, "not a JWT");
        JsonElement header, payload;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(Base64Url(parts[0])).RootElement;
            payload = JsonDocument.Parse(Base64Url(parts[1])).RootElement;
            signature = Base64Url(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return (null, "malformed JWT");
        }
        var alg = header.TryGetProperty("alg", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var valid = alg switch
        {
            "HS256" when _secret is not null => CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_secret, signed), signature),
            "RS256" when _rsa is not null => _rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => false,
        };
        if (!valid) return (null, $"JWT signature invalid or algorithm '{alg}' not accepted");
        var now = _time.GetUtcNow();
        if (!payload.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number
            || DateTimeOffset.FromUnixTimeSeconds(exp.GetInt64()) + Skew < now)
            return (null, "JWT expired or without exp");
        if (payload.TryGetProperty("nbf", out var nbf) && nbf.ValueKind == JsonValueKind.Number
            && DateTimeOffset.FromUnixTimeSeconds(nbf.GetInt64()) - Skew > now)
            return (null, "JWT not valid yet");
        if (_issuer is not null && (!payload.TryGetProperty("iss", out var iss) || iss.GetString() != _issuer))
            return (null, "JWT issuer not accepted");
        if (_audience is not null && !HasAudience(payload, _audience)) return (null, "JWT audience not accepted");
        if (!payload.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(sub.GetString()))
            return (null, "JWT without sub");
        return (Caller.FromRoles(sub.GetString()!, Roles(payload)), null);
    }

    private static bool HasAudience(JsonElement payload, string audience) =>
        payload.TryGetProperty("aud", out var aud) && aud.ValueKind switch
        {
            JsonValueKind.String => aud.GetString() == audience,
            JsonValueKind.Array => aud.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.String && x.GetString() == audience),
            _ => false,
        };

    private static string[] Roles(JsonElement payload)
    {
        if (!payload.TryGetProperty("roles", out var roles)) return [];
        return roles.ValueKind switch
        {
            JsonValueKind.String => [roles.GetString()!],
            JsonValueKind.Array => roles.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!).ToArray(),
            _ => [],
        };
    }

    private static byte[] Base64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }

    public void Dispose() => _rsa?.Dispose();
}
