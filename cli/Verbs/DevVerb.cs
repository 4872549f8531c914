using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Client;
using Mekong.Cli.Dev;
using Mekong.Scheduler;
using Mekong.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong dev</c>: a scheduler for one person's machine. Starts it on 127.0.0.1:7070 with SQLite in
/// <c>./.mekong/mekong.db</c>, creates the demo organisation <c>demo</c> and project <c>demo/default</c>
/// (both guaranteed the local agents' GPUs, 8 h100 by default) and makes the local user a member, issues an admin token on the first run
/// (later runs reuse the one saved), and writes <c>./.mekong/config.yaml</c> (server, token, project;
/// mode 0600) so that <c>mekong</c> commands run from this directory need no flags. Starts local agents
/// (<see cref="LocalAgents"/>; by default 2 nodes × 4 simulated h100 GPUs, so the demo guarantee of 8 fits and a
/// 2-node gang can run) that run jobs as real processes. Runs until Ctrl-C, which stops the agents and their jobs.
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
        var agentCount = VerbOptions.Count("--agents", "local agents (nodes local-1 … local-N) running real job processes; 0 for none", 2);
        var gpusPerAgent = VerbOptions.Count("--gpus-per-agent", "simulated GPUs per local agent", 4);
        var gpuType = new Option<string>("--gpu-type") { Description = "GPU type of the local agents' GPUs", DefaultValueFactory = _ => GpuType, HelpName = "TYPE" };
        var set = ServerVerb.PolicySet();
        var verb = new Command("dev", "run a local scheduler with local agents and a demo project, and write ./.mekong/config.yaml for the CLI");
        foreach (var o in new Option[] { listen, agentCount, gpusPerAgent, gpuType, set }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var directory = Path.Combine(context.Environment.CurrentDirectory, ConfigFile.LocalDirectory);
            var configPath = Path.Combine(directory, ConfigFile.FileName);
            var database = Path.Combine(directory, "mekong.db");
            var agentsWanted = (int)context.Get(agentCount);
            var gpus = (int)context.Get(gpusPerAgent);
            var type = context.Get(gpuType)!;
            if (agentsWanted > 64) throw new UsageException("--agents: at most 64 local agents");
            if (agentsWanted > 0 && gpus is < 1 or > 64) throw new UsageException("--gpus-per-agent: between 1 and 64");
            if (agentsWanted > 0 && !OperatingSystem.IsLinux()) throw new UsageException("local agents run on Linux only; give --agents 0");
            var options = new SchedulerOptions
            {
                Store = "Data Source=" + database,
                Listen = context.Get(listen)!,
                // A local cluster is for trying things: a job without --walltime may run an hour.
                DefaultWalltime = TimeSpan.FromHours(1),
                HeartbeatInterval = TimeSpan.FromSeconds(2),
                HeartbeatTimeout = TimeSpan.FromSeconds(10),
                Policy = ServerVerb.Policy(context.Get(set)),
            };
            await using var scheduler = await ServerVerb.Start(options, context.Cancellation).ConfigureAwait(false);

            var user = LocalUser();
            var token = await AdminToken(scheduler, configPath, user, context.Cancellation).ConfigureAwait(false);
            // The demo guarantee is the local cluster's size, so that a job (a gang of every node included) fits
            // within it and need not borrow.
            var demoGuarantee = agentsWanted > 0 ? (uint)(agentsWanted * gpus) : 8u;
            await CreateDemoAccounts(scheduler.Address, token, user, agentsWanted > 0 ? type : GpuType, demoGuarantee, context.Cancellation).ConfigureAwait(false);
            ConfigFile.Write(configPath, scheduler.Address.ToString(), token, Project);

            // Declared after the scheduler, so disposed before it: the agents stop their jobs while the scheduler
            // can still record the ends.
            var agentsDirectory = Path.Combine(directory, "agents");
            await using var agents = await StartLocalAgents(scheduler, agentsDirectory, agentsWanted, gpus, type).ConfigureAwait(false);

            var output = context.Output;
            var here = context.Environment.CurrentDirectory;
            await output.WriteLineAsync($"mekong dev: scheduler on {scheduler.Address} (SQLite {Path.GetRelativePath(here, database)})").ConfigureAwait(false);
            if (agentsWanted > 0)
            {
                var names = agentsWanted <= 3 ? string.Join(", ", Enumerable.Range(1, agentsWanted).Select(i => $"local-{i}")) : $"local-1 … local-{agentsWanted}";
                await output.WriteLineAsync($"agents: {names}; {gpus} {type} GPUs each (simulated GPUs, real processes; state in {Path.GetRelativePath(here, agentsDirectory)})").ConfigureAwait(false);
            }

            await output.WriteLineAsync($"admin token ({user}): {token}").ConfigureAwait(false);
            await output.WriteLineAsync($"wrote {Path.GetRelativePath(here, configPath)}; from this directory (in another terminal) try:").ConfigureAwait(false);
            await output.WriteLineAsync("  mekong submit --gpus 2 -- bash -c 'echo $CUDA_VISIBLE_DEVICES'").ConfigureAwait(false);
            await output.WriteLineAsync("  mekong queue --all").ConfigureAwait(false);
            await output.WriteLineAsync("  mekong logs -f ID").ConfigureAwait(false);
            await output.WriteLineAsync(agentsWanted > 0 ? "Ctrl-C stops the scheduler, the agents and their jobs." : "Ctrl-C stops the scheduler.").ConfigureAwait(false);
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
    private static async Task CreateDemoAccounts(Uri address, string token, string user, string gpuType, uint guarantee, CancellationToken cancellation)
    {
        using var channel = new RpcChannel(address);
        var admin = new AdminServiceClient(channel);
        var tree = await admin.GetAccountTreeAsync(new GetAccountTreeRequest(), Options(token, cancellation)).ConfigureAwait(false);
        var existing = tree.Accounts.Select(a => a.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, kind) in new[] { (Organisation, AccountKind.Organisation), (Project, AccountKind.Project) })
        {
            if (existing.Contains(path)) continue;
            var account = new Account { Path = path, Kind = kind };
            account.Quotas.Add(new GpuQuota { GpuType = gpuType, Guarantee = guarantee });
            await admin.SetAccountAsync(new SetAccountRequest { Account = account }, Options(token, cancellation)).ConfigureAwait(false);
        }

        var members = await admin.ListMembersAsync(new ListMembersRequest { Account = Project }, Options(token, cancellation)).ConfigureAwait(false);
        if (!members.Members.Any(m => m.User == user))
        {
            var member = new Member { Account = Project, User = user, Role = Role.Member };
            await admin.SetMemberAsync(new SetMemberRequest { Member = member }, Options(token, cancellation)).ConfigureAwait(false);
        }
    }

    /// <summary>Local agents with a fresh agent token (none for <paramref name="count"/> 0).</summary>
    private static async Task<IAsyncDisposable> StartLocalAgents(SchedulerHost scheduler, string directory, int count, int gpus, string type)
    {
        if (count == 0 || !OperatingSystem.IsLinux()) return new NoAgents();
        var token = await scheduler.IssueTokenAsync("local-agents", ["agent"], "mekong dev agents").ConfigureAwait(false);
        var loggers = LoggerFactory.Create(b =>
        {
            // The agents' lines (job started, ended) go to stderr beside the scheduler's.
            b.AddSimpleConsole(o => o.SingleLine = true);
            b.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            b.SetMinimumLevel(LogLevel.Information);
        });
        try
        {
            return new OwnedAgents(LocalAgents.Start(scheduler.Address, token, directory, count, gpus, type, loggers), loggers);
        }
        catch
        {
            loggers.Dispose();
            throw;
        }
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

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private sealed class OwnedAgents(LocalAgents agents, ILoggerFactory loggers) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await agents.DisposeAsync().ConfigureAwait(false);
            loggers.Dispose();
        }
    }
}
