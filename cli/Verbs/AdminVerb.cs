using System.CommandLine;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong admin</c>: the account tree, members, nodes and API tokens.</summary>
internal static class AdminVerb
{
    public static Command Create(VerbHost host)
    {
        var admin = new Command("admin", "administer accounts, members, nodes and API tokens");
        admin.Subcommands.Add(AdminAccountsVerb.Create(host));
        admin.Subcommands.Add(AdminMembersVerb.Create(host));
        admin.Subcommands.Add(AdminNodesVerb.Create(host));
        admin.Subcommands.Add(AdminTokensVerb.Create(host));
        return admin;
    }
}
