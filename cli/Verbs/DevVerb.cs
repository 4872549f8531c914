using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Client;
using Mekong.Scheduler;
using Mekong.Transport;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong dev</c>: a scheduler for one person's machine. Starts it on 127.0.0.1:7070 with SQLite in
/// <c>./.mekong/mekong.db</c>, creates the demo organisation <c>demo</c> and project <c>demo/default</c>
/// (with a small guarantee) and makes the local user a member, issues an admin token on the first run
/// (later runs reuse the one saved), and writes <c>./.mekong/config.yaml</c> (server, token, project;
/// mode 0600) so that <c>mekong</c> commands run from this directory need no flags. Runs until Ctrl-C.
/// </summary>
internal static class DevVerb
{
    public const string Organisation = "demo";
    public const string Project = "demo/default";

    /// <summary>GPU type of the demo guarantee (the local agents' GPUs will be announced as this type).</summary>
    public const string GpuType = "h100";

    public static Command Create(VerbHost host)
    {
        var listen = new Option<string>("--listen") { Description = "gRPC endpoint; port 0 takes any free port", DefaultValueFactory = _ => "127.0.0.1:7070", HelpName = "ADDRESS:PORT" };
        var verb = new Command("dev", "run a local scheduler with a demo project and write ./.mekong/config.yaml for the CLI");
        verb.Options.Add(listen);
        host.SetAction(verb, async context =>
        {
            var directory = Path.Combine(context.Environment.CurrentDirectory, ConfigFile.LocalDirectory);
            var configPath = Path.Combine(directory, ConfigFile.FileName);
            var database = Path.Combine(directory, "mekong.db");
            var options = new SchedulerOptions { Store = "Data Source=" + database, Listen = context.Get(listen)! };
            await using var scheduler = await ServerVerb.Start(options, context.Cancellation).ConfigureAwait(false);

            var user = LocalUser();
            var token = await AdminToken(scheduler, configPath, user, context.Cancellation).ConfigureAwait(false);
            await CreateDemoAccounts(scheduler.Address, token, user, context.Cancellation).ConfigureAwait(false);
            ConfigFile.Write(configPath, scheduler.Address.ToString(), token, Project);

            // Local agents (the agent issue) start here, against scheduler.Address with an agent token
            // from scheduler.IssueTokenAsync(node, ["agent"], …), and stop before the scheduler does.
            await using var agents = await StartLocalAgents(scheduler, context.Cancellation).ConfigureAwait(false);

            var output = context.Output;
            await output.WriteLineAsync($"mekong dev: scheduler on {scheduler.Address} (SQLite {Path.GetRelativePath(context.Environment.CurrentDirectory, database)})").ConfigureAwait(false);
            await output.WriteLineAsync($"admin token ({user}): {token}").ConfigureAwait(false);
            await output.WriteLineAsync($"wrote {Path.GetRelativePath(context.Environment.CurrentDirectory, configPath)}; from this directory try:").ConfigureAwait(false);
            await output.WriteLineAsync("  mekong submit --gpus 1 --walltime 10m -- echo hello").ConfigureAwait(false);
            await output.WriteLineAsync("  mekong queue").ConfigureAwait(false);
            await output.WriteLineAsync("Ctrl-C stops the scheduler.").ConfigureAwait(false);
            await output.FlushAsync(context.Cancellation).ConfigureAwait(false);

            await scheduler.WaitForShutdownAsync(context.Cancellation).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    /// <summary>The local user's name, as tokens and memberships spell users.</summary>
    private static string LocalUser()
    {
        var name = new string([.. Environment.UserName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')]);
        return name.Length > 0 ? name : "admin";
    }

    /// <summary>The saved token when the store still knows it, else a new admin token.</summary>
    private static async Task<string> AdminToken(SchedulerHost scheduler, string configPath, string user, CancellationToken cancellation)
    {
        if (File.Exists(configPath) && ConfigFile.Read(configPath).Token is { } saved && await scheduler.HasAdminTokenAsync().ConfigureAwait(false))
        {
            using var channel = new RpcChannel(scheduler.Address);
            try
            {
                // Any authenticated admin call says whether the saved token is still good.
                await new AdminServiceClient(channel).ListTokensAsync(new ListTokensRequest(), Options(saved, cancellation)).ConfigureAwait(false);
                return saved;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                // The store was replaced or the token revoked: issue a new one below.
            }
        }

        return await scheduler.IssueTokenAsync(user, ["admin"], "mekong dev").ConfigureAwait(false);
    }

    /// <summary>Creates <c>demo</c> and <c>demo/default</c> when absent (never overwrites what an admin changed) and
    /// makes <paramref name="user"/> a member of the project — through the API, as an admin would.</summary>
    private static async Task CreateDemoAccounts(Uri address, string token, string user, CancellationToken cancellation)
    {
        using var channel = new RpcChannel(address);
        var admin = new AdminServiceClient(channel);
        var tree = await admin.GetAccountTreeAsync(new GetAccountTreeRequest(), Options(token, cancellation)).ConfigureAwait(false);
        var existing = tree.Accounts.Select(a => a.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, kind, guarantee) in new[] { (Organisation, AccountKind.Organisation, 8u), (Project, AccountKind.Project, 4u) })
        {
            if (existing.Contains(path)) continue;
            var account = new Account { Path = path, Kind = kind };
            account.Quotas.Add(new GpuQuota { GpuType = GpuType, Guarantee = guarantee });
            await admin.SetAccountAsync(new SetAccountRequest { Account = account }, Options(token, cancellation)).ConfigureAwait(false);
        }

        var members = await admin.ListMembersAsync(new ListMembersRequest { Account = Project }, Options(token, cancellation)).ConfigureAwait(false);
        if (!members.Members.Any(m => m.User == user))
        {
            var member = new Member { Account = Project, User = user, Role = Role.Member };
            await admin.SetMemberAsync(new SetMemberRequest { Member = member }, Options(token, cancellation)).ConfigureAwait(false);
        }
    }

    /// <summary>The place for local agents (a later issue); today there are none, so jobs stay pending.</summary>
    private static Task<IAsyncDisposable> StartLocalAgents(SchedulerHost scheduler, CancellationToken cancellation)
    {
        _ = scheduler;
        _ = cancellation;
        return Task.FromResult<IAsyncDisposable>(new NoAgents());
    }

    private static CallOptions Options(string token, CancellationToken cancellation) => new()
    {
        Headers = new Metadata().Add("authorization", "Bearer " + token),
        Deadline = DateTime.UtcNow + MekongConnection.UnaryTimeout,
        CancellationToken = cancellation,
    };

    private sealed class NoAgents : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
