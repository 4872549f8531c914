using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Tests;

/// <summary>The admin API end to end: real server, real SQLite store, real HTTP/2 client, restarts on the same store.</summary>
public sealed class AdminServiceTests : IAsyncLifetime
{
    private readonly ShiftedClock _clock = new();
    private TestScheduler _s = null!;

    public async Task InitializeAsync() => _s = await TestScheduler.StartAsync(o => o.Time = _clock);

    public async Task DisposeAsync() => await _s.DisposeAsync();

    private async Task<Dictionary<string, Account>> TreeAsync() =>
        (await _s.Admin().GetAccountTreeAsync(new GetAccountTreeRequest())).Accounts.ToDictionary(a => a.Path);

    [Fact]
    public async Task Account_kind_display_name_and_class_are_stored_returned_and_survive_a_restart()
    {
        var admin = _s.Admin();
        var set = (await admin.SetAccountAsync(new SetAccountRequest
        {
            Account = new Account { Path = "acme", Kind = AccountKind.Project, DisplayName = "Acme Corp", OrganisationClass = OrganisationClass.Enterprise },
        })).Account;
        Assert.Equal((AccountKind.Project, "Acme Corp", OrganisationClass.Enterprise), (set.Kind, set.DisplayName, set.OrganisationClass));
        await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "uni-a", OrganisationClass = OrganisationClass.Academic } });
        await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "uni-a/vision", DisplayName = "Vision Lab" } });

        await _s.RestartAsync();
        var tree = await TreeAsync();
        Assert.Equal((AccountKind.Project, "Acme Corp", OrganisationClass.Enterprise), (tree["acme"].Kind, tree["acme"].DisplayName, tree["acme"].OrganisationClass));
        // Unset fields read as their defaults: kind from depth, name from the path; the class as set (unset: inherited).
        Assert.Equal((AccountKind.Organisation, "uni-a", OrganisationClass.Academic), (tree["uni-a"].Kind, tree["uni-a"].DisplayName, tree["uni-a"].OrganisationClass));
        Assert.Equal((AccountKind.Project, "Vision Lab", OrganisationClass.Unspecified),
            (tree["uni-a/vision"].Kind, tree["uni-a/vision"].DisplayName, tree["uni-a/vision"].OrganisationClass));
        Assert.Equal((AccountKind.Root, "root"), (tree[""].Kind, tree[""].DisplayName));

        // Writing back what was read (as the CLI's set does) changes nothing, and leaves the class inherited.
        admin = _s.Admin();
        await admin.SetAccountAsync(new SetAccountRequest { Account = tree["uni-a/vision"] });
        await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "uni-a", OrganisationClass = OrganisationClass.Government } });
        tree = await TreeAsync();
        Assert.Equal((AccountKind.Project, "Vision Lab", OrganisationClass.Unspecified),
            (tree["uni-a/vision"].Kind, tree["uni-a/vision"].DisplayName, tree["uni-a/vision"].OrganisationClass));
        Assert.Equal(OrganisationClass.Government, tree["uni-a"].OrganisationClass);
    }

    public static TheoryData<string, Account, string> BadAccounts => new()
    {
        { "root kind", new Account { Path = "uni-z", Kind = AccountKind.Root }, "account.kind" },
        { "unknown kind", new Account { Path = "uni-z", Kind = (AccountKind)9 }, "account.kind" },
        { "unknown class", new Account { Path = "uni-z", OrganisationClass = (OrganisationClass)9 }, "account.organisation_class" },
        { "long name", new Account { Path = "uni-z", DisplayName = new string('n', 257) }, "account.display_name" },
        { "control in name", new Account { Path = "uni-z", DisplayName = "a\nb" }, "account.display_name" },
    };

    [Theory]
    [MemberData(nameof(BadAccounts))]
    public async Task Bad_account_labels_are_refused_naming_the_field(string name, Account account, string field)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => _s.Admin().SetAccountAsync(new SetAccountRequest { Account = account }));
        Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{name}: {e.StatusCode} {e.Detail}");
        Assert.Contains(field, e.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("uni-z", (await TreeAsync()).Keys);
    }

    [Fact]
    public async Task A_token_with_a_ttl_works_until_its_expiry_even_when_cached_and_stays_expired_after_a_restart()
    {
        var admin = _s.Admin();
        var hour = (await admin.IssueTokenAsync(new IssueTokenRequest { User = "alice", Description = "an hour", Ttl = Duration.FromTimeSpan(TimeSpan.FromHours(1)) }));
        var day = (await admin.IssueTokenAsync(new IssueTokenRequest { User = "alice", Description = "a day", Ttl = Duration.FromTimeSpan(TimeSpan.FromDays(1)) }));
        Assert.Equal(TimeSpan.FromHours(1), hour.Token.ExpiresAt.ToDateTimeOffset() - hour.Token.CreatedAt.ToDateTimeOffset());
        Assert.Equal(TimeSpan.FromDays(1), day.Token.ExpiresAt.ToDateTimeOffset() - day.Token.CreatedAt.ToDateTimeOffset());
        var listed = (await admin.ListTokensAsync(new ListTokensRequest { User = "alice" })).Tokens.ToDictionary(t => t.Id);
        Assert.Equal(hour.Token.ExpiresAt, listed[hour.Token.Id].ExpiresAt);

        Task<ListTokensResponse> Call(string secret) => new AdminServiceClient(_s.Channel(secret)).ListTokensAsync(new ListTokensRequest());
        await Call(hour.Secret);
        // A second before its expiry the token still works, and is cached afresh: the entry must end at the expiry,
        // not 30 s later.
        _clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        await Call(hour.Secret);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var expired = await Assert.ThrowsAsync<RpcException>(() => Call(hour.Secret));
        Assert.Equal(StatusCode.Unauthenticated, expired.StatusCode);
        Assert.Contains("expired", expired.Detail, StringComparison.Ordinal);
        await Call(day.Secret);

        // Listings leave expired tokens out unless asked for them, as they do revoked ones.
        Assert.DoesNotContain((await admin.ListTokensAsync(new ListTokensRequest { User = "alice" })).Tokens, t => t.Id == hour.Token.Id);
        Assert.Contains((await admin.ListTokensAsync(new ListTokensRequest { User = "alice", IncludeRevoked = true })).Tokens,
            t => t.Id == hour.Token.Id && t.ExpiresAt == hour.Token.ExpiresAt && !t.Revoked);

        await _s.RestartAsync();
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => Call(hour.Secret))).StatusCode);
        Assert.Equal(day.Token.ExpiresAt, (await Call(day.Secret)).Tokens.Single(t => t.Id == day.Token.Id).ExpiresAt);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => Call(day.Secret))).StatusCode);
        // The admin token has no expiry.
        Assert.Null((await _s.Admin().ListTokensAsync(new ListTokensRequest { User = "root" })).Tokens.Single().ExpiresAt);
    }

    public static TheoryData<string, Duration> BadTtls => new()
    {
        { "zero", Duration.FromTimeSpan(TimeSpan.Zero) },
        { "negative", new Duration { Seconds = -60 } },
        { "over the maximum", Duration.FromTimeSpan(TimeSpan.FromDays(367)) },
        { "not normalised", new Duration { Seconds = 60, Nanos = 1_500_000_000 } },
    };

    [Theory]
    [MemberData(nameof(BadTtls))]
    public async Task Bad_ttls_are_refused_naming_the_field_and_no_token_is_issued(string name, Duration ttl)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => _s.Admin().IssueTokenAsync(new IssueTokenRequest { User = "alice", Ttl = ttl }));
        Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{name}: {e.StatusCode} {e.Detail}");
        Assert.StartsWith("ttl: ", e.Detail, StringComparison.Ordinal);
        Assert.Empty((await _s.Admin().ListTokensAsync(new ListTokensRequest { User = "alice", IncludeRevoked = true })).Tokens);
    }
}
