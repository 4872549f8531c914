using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Tests;

/// <summary>Bearer JWTs from a centre's identity provider: HS256 and RS256, issuer, audience, expiry, roles.</summary>
public sealed class JwtTests : IAsyncLifetime
{
    private const string Secret = "a-shared-secret-of-at-least-32-bytes!!";
    private readonly string _dir = Directory.CreateTempSubdirectory("mekong-jwt-").FullName;
    private TestScheduler _s = null!;

    public async Task InitializeAsync()
    {
        var key = Path.Combine(_dir, "jwt.key");
        await File.WriteAllTextAsync(key, Secret);
        _s = await TestScheduler.StartAsync(o =>
        {
            o.JwtKeyFile = key;
            o.JwtIssuer = "https://id.example.org";
            o.JwtAudience = "mekong";
        });
        await _s.ProjectWithMemberAsync("uni-a/vision", "alice");
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Hs256(object payload, string secret = Secret) =>
        Sign(payload, "HS256", data => HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));

    private static string Sign(object payload, string alg, Func<byte[], byte[]> sign)
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var head = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg, typ = "JWT" }));
        var body = B64(JsonSerializer.SerializeToUtf8Bytes(payload));
        return $"{head}.{body}.{B64(sign(Encoding.ASCII.GetBytes($"{head}.{body}")))}";
    }

    private static long In(TimeSpan t) => DateTimeOffset.UtcNow.Add(t).ToUnixTimeSeconds();

    [Fact]
    public async Task A_valid_token_acts_as_its_subject_with_the_subjects_memberships()
    {
        var jwt = Hs256(new { sub = "alice", iss = "https://id.example.org", aud = "mekong", exp = In(TimeSpan.FromMinutes(5)) });
        var job = (await _s.Jobs(jwt).SubmitJobAsync(TestScheduler.Job("uni-a/vision"))).Job;
        Assert.Equal("alice", job.User);
        var notAdmin = await Assert.ThrowsAsync<RpcException>(() => _s.Admin(jwt).DrainNodeAsync(new DrainNodeRequest { Name = "x" }));
        Assert.Equal(StatusCode.PermissionDenied, notAdmin.StatusCode);
    }

    [Fact]
    public async Task A_roles_claim_can_make_a_centre_admin()
    {
        var jwt = Hs256(new { sub = "operator", iss = "https://id.example.org", aud = new[] { "other", "mekong" }, exp = In(TimeSpan.FromMinutes(5)), roles = new[] { "admin" } });
        await _s.Admin(jwt).SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "gov-b" } });
    }

    public static TheoryData<string, string> Refused => new()
    {
        { "expired", Hs256(new { sub = "alice", iss = "https://id.example.org", aud = "mekong", exp = In(TimeSpan.FromMinutes(-5)) }) },
        { "wrong key", Hs256(new { sub = "alice", iss = "https://id.example.org", aud = "mekong", exp = In(TimeSpan.FromMinutes(5)) }, "another-secret-that-is-long-enough-too") },
        { "wrong issuer", Hs256(new { sub = "alice", iss = "https://evil.example.org", aud = "mekong", exp = In(TimeSpan.FromMinutes(5)) }) },
        { "wrong audience", Hs256(new { sub = "alice", iss = "https://id.example.org", aud = "else", exp = In(TimeSpan.FromMinutes(5)) }) },
        { "no expiry", Hs256(new { sub = "alice", iss = "https://id.example.org", aud = "mekong" }) },
        { "alg none", Sign(new { sub = "alice", iss = "https://id.example.org", aud = "mekong", exp = In(TimeSpan.FromMinutes(5)) }, "none", _ => []) },
        { "garbage", "abc.def.ghi" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Invalid_tokens_are_unauthenticated(string why, string jwt)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => _s.Jobs(jwt).ListJobsAsync(new ListJobsRequest()));
        Assert.True(e.StatusCode == StatusCode.Unauthenticated, $"{why}: {e.StatusCode} {e.Detail}");
    }

    [Fact]
    public async Task Rs256_tokens_are_checked_against_the_providers_public_key()
    {
        using var rsa = RSA.Create(2048);
        var pem = Path.Combine(_dir, "idp.pem");
        await File.WriteAllTextAsync(pem, rsa.ExportSubjectPublicKeyInfoPem());
        await using var s = await TestScheduler.StartAsync(o => o.JwtKeyFile = pem);
        await s.ProjectWithMemberAsync("uni-a/nlp", "dave");
        var jwt = Sign(new { sub = "dave", exp = In(TimeSpan.FromMinutes(5)) }, "RS256", d => rsa.SignData(d, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.Equal("dave", (await s.Jobs(jwt).SubmitJobAsync(TestScheduler.Job("uni-a/nlp"))).Job.User);
        var forged = Hs256(new { sub = "dave", exp = In(TimeSpan.FromMinutes(5)) });
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => s.Jobs(forged).ListJobsAsync(new ListJobsRequest()))).StatusCode);
    }
}
