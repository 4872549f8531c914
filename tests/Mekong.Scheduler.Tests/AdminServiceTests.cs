using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Scheduler.Tests;

/// <summary>The admin API end to end: real server, real SQLite store, real HTTP/2 client, restarts on the same store.</summary>
public sealed class AdminServiceTests : IAsyncLifetime
{
    private TestScheduler _s = null!;

    public async Task InitializeAsync() => _s = await TestScheduler.StartAsync();

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
}
