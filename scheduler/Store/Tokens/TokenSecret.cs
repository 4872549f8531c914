using System.Security.Cryptography;
using System.Text;

namespace Mekong.Store;

/// <summary>API token secrets: 32 random bytes shown once as <c>mkg_</c> + base64url; the store keeps only
/// the lowercase hex SHA-256 of the whole string, so a leaked database grants nothing. A 256-bit random
/// secret needs no salt or slow hash: it cannot be guessed, only stolen.</summary>
public static class TokenSecret
{
    public const string Prefix = "mkg_";

    public static string NewSecret()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return Prefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>A short public id for listings and revocation (not a secret).</summary>
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return "tok_" + Convert.ToHexStringLower(bytes);
    }

    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }
}
