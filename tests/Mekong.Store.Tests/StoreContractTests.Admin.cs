using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Mekong.Policy;
using Mekong.Store.Backends;
using Mekong.Store.Schema;
using Mekong.Store.Writing;

namespace Mekong.Store.Tests;

/// <summary>The store's contract for what admins change: accounts, members, nodes and API tokens.</summary>
public abstract partial class StoreContractTests
{
    // ------------------------------------------------------------------ accounts, nodes, tokens

    [Fact]
    public async Task Accounts_members_and_nodes_change_and_are_removed()
    {
        await using var store = Open();
        var w = store.Writer;
        await SeedTree(w);
        await w.SetAccountAsync(new AccountSpec("uni-a/vision") { Shares = 5 });
        await w.SetMemberAsync(new Member("uni-a/vision", "bob", "member"));
        await w.SetMemberAsync(new Member("uni-a/vision", "bob", "project-admin"));
        await w.SetNodeStateAsync("n1", NodeState.Down);
        await Assert.ThrowsAsync<StoreException>(() => w.SetNodeStateAsync("n9", NodeState.Up));
        await Assert.ThrowsAsync<StoreException>(() => w.SetAccountAsync(new AccountSpec("uni-b/orphan")));
        await Assert.ThrowsAsync<StoreException>(() => w.RemoveAccountAsync("uni-a"));

        var snapshot = await store.LoadAsync(T0);
        var vision = snapshot.Accounts.Single(a => a.Path == "uni-a/vision");
        Assert.Equal(5, vision.Shares);
        Assert.Null(vision.Budget);
        Assert.Empty(vision.Guarantee);
        Assert.Equal(new Member("uni-a/vision", "bob", "project-admin"), Assert.Single(snapshot.Members));
        Assert.Equal(NodeState.Down, snapshot.Nodes.Single(n => n.Spec.Name == "n1").State);

        await w.RemoveMemberAsync("uni-a/vision", "bob");
        await w.RemoveAccountAsync("uni-a/vision");
        await Assert.ThrowsAsync<StoreException>(() => w.RemoveMemberAsync("uni-a/vision", "bob"));
        snapshot = await store.LoadAsync(T0);
        Assert.Equal("uni-a", Assert.Single(snapshot.Accounts).Path);
        Assert.Empty(snapshot.Members);
    }

    [Fact]
    public async Task Account_kind_display_name_and_class_survive_reopen_and_unset_reads_as_unset()
    {
        await using (var store = Open())
        {
            var w = store.Writer;
            await w.SetAccountAsync(new AccountSpec("acme") { Kind = AccountKind.Project, DisplayName = "Acme Corp", OrganisationClass = OrganisationClass.Enterprise });
            await w.SetAccountAsync(new AccountSpec("uni-a") { OrganisationClass = OrganisationClass.Academic });
            await w.SetAccountAsync(new AccountSpec("uni-a/vision") { Kind = AccountKind.Organisation, DisplayName = "Vision Lab" });
            await w.SetAccountAsync(new AccountSpec("uni-a/nlp"));
            // Replacing an account replaces its labels too: SetAccount writes the whole account.
            await w.SetAccountAsync(new AccountSpec("uni-a") { OrganisationClass = OrganisationClass.Government, Shares = 2 });
            await Assert.ThrowsAsync<StoreException>(() => w.SetAccountAsync(new AccountSpec("uni-b") { DisplayName = " " }));
            await Assert.ThrowsAsync<StoreException>(() => w.SetAccountAsync(new AccountSpec("uni-b") { Kind = (AccountKind)7 }));
        }
        await using (var store = Open())
        {
            var accounts = (await store.LoadAsync(T0)).Accounts.ToDictionary(a => a.Path);
            Assert.Equal((AccountKind.Project, "Acme Corp", OrganisationClass.Enterprise),
                (accounts["acme"].Kind, accounts["acme"].DisplayName, accounts["acme"].OrganisationClass));
            Assert.Equal(((AccountKind?)null, (string?)null, OrganisationClass.Government, 2),
                (accounts["uni-a"].Kind, accounts["uni-a"].DisplayName, accounts["uni-a"].OrganisationClass, accounts["uni-a"].Shares));
            Assert.Equal((AccountKind.Organisation, "Vision Lab", (OrganisationClass?)null),
                (accounts["uni-a/vision"].Kind, accounts["uni-a/vision"].DisplayName, accounts["uni-a/vision"].OrganisationClass));
            Assert.Equal(((AccountKind?)null, (string?)null, (OrganisationClass?)null),
                (accounts["uni-a/nlp"].Kind, accounts["uni-a/nlp"].DisplayName, accounts["uni-a/nlp"].OrganisationClass));
            Assert.DoesNotContain("uni-b", accounts.Keys);
        }
    }

    [Fact]
    public async Task Token_secrets_are_never_stored_and_tokens_are_found_by_hash()
    {
        await using var store = Open();
        var issued = await store.Writer.IssueTokenAsync("ci", "alice", ["centre-admin"]);
        Assert.StartsWith(TokenSecret.Prefix, issued.Secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(issued.Secret[TokenSecret.Prefix.Length..].Replace('-', '+').Replace('_', '/') + "=").Length);

        var everything = ReadAllText("api_tokens");
        Assert.DoesNotContain(everything, v => v.Contains(issued.Secret[TokenSecret.Prefix.Length..], StringComparison.Ordinal));
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issued.Secret))), everything);

        var found = await store.FindTokenAsync(issued.Secret);
        Assert.Equal(issued.Token, found! with { Roles = issued.Token.Roles });
        Assert.Equal(["centre-admin"], found.Roles);
        Assert.Null(await store.FindTokenAsync(issued.Secret + "x"));
        Assert.Null(await store.FindTokenAsync(TokenSecret.NewSecret()));

        await store.Writer.RevokeTokenAsync(issued.Token.Id);
        Assert.Null(await store.FindTokenAsync(issued.Secret));
        await Assert.ThrowsAsync<StoreException>(() => store.Writer.RevokeTokenAsync(issued.Token.Id));
        Assert.True(Assert.Single(await store.ListTokensAsync()).IsRevoked);
    }

    [Fact]
    public async Task A_token_issued_with_a_lifetime_keeps_its_expiry_across_reopen()
    {
        IssuedToken brief, forever;
        await using (var store = Open())
        {
            brief = await store.Writer.IssueTokenAsync("ci", "alice", [], TimeSpan.FromDays(7));
            forever = await store.Writer.IssueTokenAsync("agent", "node-1", ["agent"]);
            await Assert.ThrowsAsync<StoreException>(() => store.Writer.IssueTokenAsync("bad", "alice", [], TimeSpan.Zero));
            await Assert.ThrowsAsync<StoreException>(() => store.Writer.IssueTokenAsync("bad", "alice", [], TimeSpan.FromSeconds(-1)));
        }
        Assert.Equal(T0.AddDays(7), brief.Token.Expires);
        Assert.Null(forever.Token.Expires);
        _time.Now = T0.AddDays(8);
        await using (var store = Open())
        {
            // The store returns an expired token with its expiry: the caller's clock decides (see the Authenticator).
            var found = await store.FindTokenAsync(brief.Secret);
            Assert.Equal(T0.AddDays(7), found!.Expires);
            Assert.True(found.IsExpired(_time.Now));
            Assert.False(found.IsExpired(T0.AddDays(7) - TimeSpan.FromTicks(1)));
            Assert.True(found.IsExpired(T0.AddDays(7)));
            Assert.Null((await store.FindTokenAsync(forever.Secret))!.Expires);
            var listed = (await store.ListTokensAsync()).ToDictionary(t => t.Id);
            Assert.Equal((T0.AddDays(7), (DateTimeOffset?)null), (listed[brief.Token.Id].Expires, listed[forever.Token.Id].Expires));
            Assert.Equal(2, listed.Count);
        }
    }
}
