using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong admin members list|add|remove</c>: who may use an account, with which role.</summary>
internal static class AdminMembersVerb
{
    public static Command Create(VerbHost host)
    {
        var members = new Command("members", "list, add (or change the role of) and remove an account's members");
        members.Subcommands.Add(List(host));
        members.Subcommands.Add(Add(host));
        members.Subcommands.Add(Remove(host));
        return members;
    }

    private static Command List(VerbHost host)
    {
        var account = new Argument<string>("account") { Description = "account path" };
        var inherited = new Option<bool>("--inherited") { Description = "also list members inherited from ancestors" };
        var json = VerbHost.JsonOption();
        var verb = new Command("list", "list an account's members");
        verb.Arguments.Add(account);
        verb.Options.Add(inherited);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var request = new ListMembersRequest { Account = context.Get(account), IncludeInherited = context.Get(inherited) };
            var response = await connection.Admin.ListMembersAsync(request, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json))
            {
                ProtoJson.WriteArray(context.Output, response.Members);
            }
            else if (response.Members.Count == 0)
            {
                await context.Output.WriteLineAsync("no members").ConfigureAwait(false);
            }
            else
            {
                var table = new Table("USER", "ROLE", "ACCOUNT");
                foreach (var m in response.Members) table.Add(m.User, EnumWords.Of(m.Role), m.Account);
                table.Write(context.Output);
            }

            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command Add(VerbHost host)
    {
        var account = new Argument<string>("account") { Description = "account path" };
        var user = new Argument<string>("user") { Description = "user name" };
        var role = VerbOptions.Word<Role>("--role", "role on the account; default member");
        var json = VerbHost.JsonOption();
        var verb = new Command("add", "add a member, or change a member's role");
        verb.Arguments.Add(account);
        verb.Arguments.Add(user);
        verb.Options.Add(role);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var member = new Member { Account = context.Get(account), User = context.Get(user), Role = context.Get(role) ?? Role.Member };
            var response = await connection.Admin.SetMemberAsync(new SetMemberRequest { Member = member }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Member);
            else await context.Output.WriteLineAsync($"{response.Member.User} is {EnumWords.Of(response.Member.Role)} of {response.Member.Account}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command Remove(VerbHost host)
    {
        var account = new Argument<string>("account") { Description = "account path" };
        var user = new Argument<string>("user") { Description = "user name" };
        var verb = new Command("remove", "remove a member from an account");
        verb.Arguments.Add(account);
        verb.Arguments.Add(user);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            await connection.Admin.RemoveMemberAsync(new RemoveMemberRequest { Account = context.Get(account), User = context.Get(user) }, connection.Unary()).ConfigureAwait(false);
            await context.Output.WriteLineAsync($"{context.Get(user)} removed from {context.Get(account)}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }
}
