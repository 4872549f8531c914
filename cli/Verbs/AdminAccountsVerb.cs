using System.CommandLine;
using System.Globalization;
using Mekong.Api.V1;
using Mekong.Cli.Input;
using Mekong.Cli.Output;
using Mekong.Transport;

namespace Mekong.Cli.Verbs;

/// <summary>
/// <c>mekong admin accounts list|set|remove</c>. <c>set</c> changes only what its flags name: it reads the
/// account (when it exists), applies the flags and writes the whole account back, since SetAccount
/// replaces an account with the one it is given.
/// </summary>
internal static class AdminAccountsVerb
{
    public static Command Create(VerbHost host)
    {
        var accounts = new Command("accounts", "list, create or change, and remove accounts (organisations and projects)");
        accounts.Subcommands.Add(List(host));
        accounts.Subcommands.Add(Set(host));
        accounts.Subcommands.Add(Remove(host));
        return accounts;
    }

    private static Command List(VerbHost host)
    {
        var path = new Argument<string?>("path") { Description = "top of the subtree; default the whole tree", Arity = ArgumentArity.ZeroOrOne };
        var depth = new Option<uint>("--depth") { Description = "levels below the path; 0 means all", HelpName = "N" };
        var json = VerbHost.JsonOption();
        var verb = new Command("list", "list the account tree with names, kinds, classes, shares, guarantees, limits, budgets and GPUs in use");
        verb.Arguments.Add(path);
        verb.Options.Add(depth);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var request = new GetAccountTreeRequest { Path = context.Get(path) ?? "", Depth = context.Get(depth) };
            var response = await connection.Admin.GetAccountTreeAsync(request, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json))
            {
                ProtoJson.WriteArray(context.Output, response.Accounts);
                return ExitCodes.Success;
            }

            // CLASS is the class as set; "-" means inherited from the parent (a row above it in the tree).
            var table = new Table("PATH", "NAME", "KIND", "CLASS", "SHARES", "GUARANTEE", "LIMIT", "BUDGET", "IN USE");
            foreach (var a in response.Accounts)
            {
                table.Add(a.Path.Length == 0 ? "/" : a.Path, a.DisplayName, EnumWords.Of(a.Kind), EnumWords.Of(a.OrganisationClass),
                    a.Shares == 0 ? "1" : a.Shares.ToString(CultureInfo.InvariantCulture),
                    string.Join(' ', a.Quotas.Where(q => q.Guarantee > 0).Select(q => $"{q.GpuType}={q.Guarantee}")),
                    string.Join(' ', a.Quotas.Where(q => q.HasLimit).Select(q => $"{q.GpuType}={q.Limit}")),
                    Budget(a.Budget),
                    string.Join(' ', a.GpusInUse.Where(p => p.Value > 0).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
            }

            table.Write(context.Output);
            return ExitCodes.Success;
        });
        return verb;
    }

    private static string Budget(Budget? budget) =>
        budget is null ? ""
        : string.Create(CultureInfo.InvariantCulture, $"{budget.UsedGpuHours:0.#}/{budget.GpuHours:0.#}h per {EnumWords.Of(budget.Period)}, {EnumWords.Of(budget.OnExhausted is OnExhausted.Unspecified ? OnExhausted.Hold : budget.OnExhausted)}");

    private static Command Set(VerbHost host)
    {
        var path = new Argument<string>("path") { Description = "account path (uni-a, uni-a/vision)" };
        var shares = new Option<uint?>("--shares") { Description = "weight among siblings for fair share", HelpName = "N" };
        var guarantee = VerbOptions.Pairs("--guarantee", "GPUs of a type guaranteed to the account", "TYPE=N");
        var limit = VerbOptions.Pairs("--limit", "most GPUs of a type the account may hold; TYPE=none removes the limit", "TYPE=N");
        var budgetHours = new Option<string?>("--budget-gpu-hours") { Description = "GPU-hours per budget period; 'none' removes the budget", HelpName = "HOURS" };
        var budgetPeriod = VerbOptions.Word<BudgetPeriod>("--budget-period", "budget period");
        var onExhausted = VerbOptions.Word<OnExhausted>("--on-exhausted", "what new jobs do when the budget is spent");
        var priorityPreemption = new Option<bool?>("--priority-preemption") { Description = "whether the project's high jobs may preempt its own low jobs (true|false)", HelpName = "BOOL" };
        var organisationClass = VerbOptions.Word<OrganisationClass>("--class", "organisation class for the rate card; default inherited from the parent");
        var kind = VerbOptions.Word<AccountKind>("--kind", "account kind; default from depth");
        var displayName = new Option<string?>("--display-name") { Description = "display name; default the last path segment", HelpName = "NAME" };
        var json = VerbHost.JsonOption();
        var verb = new Command("set", "create an account or change it: mekong admin accounts set uni-a/vision --guarantee h100=8 --limit h100=16");
        verb.Arguments.Add(path);
        foreach (var o in new Option[] { shares, guarantee, limit, budgetHours, budgetPeriod, onExhausted, priorityPreemption, organisationClass, kind, displayName, json })
            verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var accountPath = context.Get(path);
            // Parse every flag before calling anyone: a usage error sends nothing.
            var guarantees = KeyValueText.ParseGpuCounts(context.Get(guarantee) ?? [], "--guarantee", allowNone: false);
            var limits = KeyValueText.ParseGpuCounts(context.Get(limit) ?? [], "--limit", allowNone: true);
            double? hours = null;
            var removeBudget = false;
            if (context.Get(budgetHours) is { } h)
            {
                if (h.Equals("none", StringComparison.OrdinalIgnoreCase)) removeBudget = true;
                else if (double.TryParse(h, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)) hours = v;
                else throw new UsageException($"--budget-gpu-hours '{h}': expected a positive number or 'none'");
            }

            var connection = context.Connect();
            var account = await Existing(connection, accountPath).ConfigureAwait(false) ?? new Account { Path = accountPath };
            if (context.Get(shares) is { } s) account.Shares = s;
            foreach (var (type, n) in guarantees) Quota(account, type).Guarantee = n!.Value;
            foreach (var (type, n) in limits)
            {
                var quota = Quota(account, type);
                if (n is { } l) quota.Limit = l;
                else quota.ClearLimit();
            }

            // A type with no guarantee and no limit says nothing: drop it.
            foreach (var empty in account.Quotas.Where(q => q.Guarantee == 0 && !q.HasLimit).ToList()) account.Quotas.Remove(empty);
            var period = context.Get(budgetPeriod);
            var exhausted = context.Get(onExhausted);
            if (removeBudget)
            {
                if (period is not null || exhausted is not null) throw new UsageException("--budget-gpu-hours none removes the budget; drop --budget-period and --on-exhausted");
                account.Budget = null;
            }
            else if (hours is not null || period is not null || exhausted is not null)
            {
                account.Budget ??= new Budget { Period = BudgetPeriod.Month };
                if (hours is { } gh) account.Budget.GpuHours = gh;
                if (period is { } p) account.Budget.Period = p;
                if (exhausted is { } e) account.Budget.OnExhausted = e;
                if (account.Budget.GpuHours <= 0) throw new UsageException("a budget needs --budget-gpu-hours");
            }

            if (context.Get(priorityPreemption) is { } pp) account.AllowPriorityPreemption = pp;
            if (context.Get(organisationClass) is { } oc) account.OrganisationClass = oc;
            if (context.Get(kind) is { } k) account.Kind = k;
            if (context.Get(displayName) is { } dn) account.DisplayName = dn;

            var response = await connection.Admin.SetAccountAsync(new SetAccountRequest { Account = account }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Account);
            else await context.Output.WriteLineAsync($"account {response.Account.Path} set").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command Remove(VerbHost host)
    {
        var path = new Argument<string>("path") { Description = "account path" };
        var verb = new Command("remove", "remove an account with no children, members or unfinished jobs");
        verb.Arguments.Add(path);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            await connection.Admin.RemoveAccountAsync(new RemoveAccountRequest { Path = context.Get(path) }, connection.Unary()).ConfigureAwait(false);
            await context.Output.WriteLineAsync($"account {context.Get(path)} removed").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    /// <summary>The account as stored, or null when there is none at that path.</summary>
    internal static async Task<Account?> Existing(Client.MekongConnection connection, string path)
    {
        try
        {
            var tree = await connection.Admin.GetAccountTreeAsync(new GetAccountTreeRequest { Path = path, Depth = 1 }, connection.Unary()).ConfigureAwait(false);
            return tree.Accounts.FirstOrDefault(a => a.Path == path);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private static GpuQuota Quota(Account account, string type)
    {
        var quota = account.Quotas.FirstOrDefault(q => q.GpuType == type);
        if (quota is null)
        {
            quota = new GpuQuota { GpuType = type };
            account.Quotas.Add(quota);
        }

        return quota;
    }
}
