using System.CommandLine;
using Duration = Google.Protobuf.WellKnownTypes.Duration;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong admin tokens issue|list|revoke</c>. <c>issue</c> prints the secret alone on stdout (so
/// <c>TOKEN=$(mekong admin tokens issue alice)</c> works) and says on stderr that it will not be shown again.
/// </summary>
internal static class AdminTokensVerb
{
    public static Command Create(VerbHost host)
    {
        var tokens = new Command("tokens", "issue, list and revoke API tokens");
        tokens.Subcommands.Add(Issue(host));
        tokens.Subcommands.Add(List(host));
        tokens.Subcommands.Add(Revoke(host));
        return tokens;
    }

    private static Command Issue(VerbHost host)
    {
        var user = new Argument<string>("user") { Description = "the user the token acts as" };
        var description = new Option<string?>("--description") { Description = "what the token is for" };
        var ttl = VerbOptions.Duration("--ttl", "lifetime (7d, 12h; at most the server's maximum, a year by default); default no expiry");
        var roles = new Option<string[]>("--role") { Description = "role the token carries beyond the user's memberships: admin or agent (repeatable)", HelpName = "ROLE" };
        roles.AcceptOnlyFromAmong("admin", "agent");
        var json = VerbHost.JsonOption();
        var verb = new Command("issue", "issue a token for a user; prints the secret, once");
        verb.Arguments.Add(user);
        foreach (var o in new Option[] { description, ttl, roles, json }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var request = new IssueTokenRequest { User = context.Get(user), Description = context.Get(description) ?? "" };
            if (context.Get(ttl) is { } t) request.Ttl = Duration.FromTimeSpan(t);
            request.Roles.AddRange(context.Get(roles) ?? []);
            var response = await connection.Admin.IssueTokenAsync(request, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json))
            {
                ProtoJson.Write(context.Output, response);
            }
            else
            {
                await context.Output.WriteLineAsync(response.Secret).ConfigureAwait(false);
                var expires = response.Token.ExpiresAt is { } at ? $", expires {JobText.TimeAndRelative(at, context.Now)}" : "";
                await context.Error.WriteLineAsync($"token {response.Token.Id} for {response.Token.User}{expires}; the secret above is shown only now").ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command List(VerbHost host)
    {
        var user = new Option<string?>("--user") { Description = "only this user's tokens" };
        var revoked = new Option<bool>("--include-revoked") { Description = "include revoked and expired tokens" };
        var json = VerbHost.JsonOption();
        var verb = new Command("list", "list tokens (never their secrets)");
        foreach (var o in new Option[] { user, revoked, json }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var request = new ListTokensRequest { User = context.Get(user) ?? "", IncludeRevoked = context.Get(revoked) };
            var response = await connection.Admin.ListTokensAsync(request, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json))
            {
                ProtoJson.WriteArray(context.Output, response.Tokens);
            }
            else if (response.Tokens.Count == 0)
            {
                await context.Output.WriteLineAsync("no tokens").ConfigureAwait(false);
            }
            else
            {
                var now = context.Now;
                var table = new Table("ID", "USER", "ROLES", "DESCRIPTION", "CREATED", "EXPIRES", "LAST USED", "REVOKED");
                foreach (var t in response.Tokens)
                {
                    table.Add(t.Id, t.User, string.Join(',', t.Roles), t.Description, JobText.Time(t.CreatedAt), JobText.Relative(t.ExpiresAt, now), JobText.Relative(t.LastUsedAt, now), t.Revoked ? "yes" : "");
                }

                table.Write(context.Output);
            }

            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command Revoke(VerbHost host)
    {
        var id = new Argument<string>("id") { Description = "token id (from tokens list)" };
        var json = VerbHost.JsonOption();
        var verb = new Command("revoke", "revoke a token: calls with it fail from now on");
        verb.Arguments.Add(id);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var response = await connection.Admin.RevokeTokenAsync(new RevokeTokenRequest { Id = context.Get(id) }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Token);
            else await context.Output.WriteLineAsync($"token {response.Token.Id} revoked").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }
}
