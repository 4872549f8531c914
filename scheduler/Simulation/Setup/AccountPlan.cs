using Mekong.Policy;
using Mekong.Simulation.Trace;

namespace Mekong.Simulation.Setup;

/// <summary>The account tree a replay runs under, and which project each trace tenant submits to.</summary>
public sealed class AccountPlan
{
    /// <summary>Share of the cluster that <c>--accounts auto</c> hands out as guarantees.</summary>
    public const double AutoGuaranteedFraction = 0.8;

    public AccountPlan(IReadOnlyList<AccountSpec> accounts, IReadOnlyDictionary<string, string> tenantProjects)
    {
        Accounts = accounts;
        TenantProjects = tenantProjects;
    }

    /// <summary>Accounts, parents before children.</summary>
    public IReadOnlyList<AccountSpec> Accounts { get; }

    /// <summary>Trace tenant → project path.</summary>
    public IReadOnlyDictionary<string, string> TenantProjects { get; }

    public AccountSpec ProjectOf(string tenant) => Accounts.First(a => a.Path == TenantProjects[tenant]);

    /// <summary>The tenant's weight in the entitled-share computation: its project's entitled fraction of the
    /// cluster, the product of normalised shares down the path (the same entitlement fair share ranks by).</summary>
    public double WeightOf(string tenant)
    {
        var byPath = Accounts.ToDictionary(a => a.Path, StringComparer.Ordinal);
        var path = TenantProjects[tenant];
        var sharing = TenantProjects.Values.Count(p => p == path);
        var w = 1.0 / sharing;
        while (path.Length > 0)
        {
            var a = byPath[path];
            var siblings = Accounts.Where(s => s.ParentPath == a.ParentPath).Sum(s => (double)s.Shares);
            w *= a.Shares / siblings;
            path = a.ParentPath;
        }
        return w;
    }

    /// <summary>One project per tenant (directly under the root), guarantees proportional to the tenant's GPU-hours
    /// in the trace summing to 80% of each GPU type's capacity (largest remainder, so the sum is exact), shares
    /// equal to guarantees.</summary>
    public static AccountPlan Auto(IReadOnlyList<TraceJob> trace, ClusterSpec cluster)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(cluster);
        var hours = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var j in trace) hours[j.Tenant] = hours.GetValueOrDefault(j.Tenant) + j.GpuHours;
        var tenants = hours.Keys.ToArray();
        var total = hours.Values.Sum();
        var guarantees = tenants.ToDictionary(t => t, _ => new SortedDictionary<string, int>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (type, capacity) in cluster.GpusByType)
        {
            var pool = (int)Math.Floor(capacity * AutoGuaranteedFraction);
            var exact = tenants.Select(t => pool * hours[t] / total).ToArray();
            var given = exact.Select(x => (int)Math.Floor(x)).ToArray();
            var left = pool - given.Sum();
            var byRemainder = Enumerable.Range(0, tenants.Length)
                .OrderByDescending(i => exact[i] - given[i]).ThenBy(i => tenants[i], StringComparer.Ordinal).ToArray();
            for (var k = 0; k < left; k++) given[byRemainder[k % byRemainder.Length]]++;
            for (var i = 0; i < tenants.Length; i++)
                if (given[i] > 0) guarantees[tenants[i]][type] = given[i];
        }
        var accounts = new List<AccountSpec>();
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in tenants)
        {
            var path = ProjectName(t);
            accounts.Add(new AccountSpec(path) { Guarantee = guarantees[t], Shares = Math.Max(1, guarantees[t].Values.Sum()) });
            map[t] = path;
        }
        return new AccountPlan(accounts, map);
    }

    private static string ProjectName(string tenant) => tenant.Replace('/', '-');

    public static AccountPlan FromYamlFile(string path, IReadOnlyList<TraceJob> trace)
    {
        if (!File.Exists(path)) throw new SimulationInputException($"accounts file '{path}' does not exist");
        return FromYaml(File.ReadAllText(path), path, trace);
    }

    /// <summary>
    /// <code>
    /// accounts:                  # parents before children
    ///   - path: uni-a
    ///     shares: 2
    ///     guarantee: { h100: 64 }
    ///     limit: { h100: 128 }
    ///   - path: uni-a/vision
    ///     guarantee: { h100: 32 }
    /// tenants:                   # trace tenant → project; a tenant named like a project maps to it
    ///   cluster07: uni-a/vision
    /// default: uni-a/vision      # optional: where unmapped tenants go
    /// </code>
    /// </summary>
    public static AccountPlan FromYaml(string yaml, string source, IReadOnlyList<TraceJob> trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var doc = Yaml.Parse<AccountsDocument>(yaml, source);
        if (doc.Accounts is not { Count: > 0 }) throw new SimulationInputException($"{source}: 'accounts' must list at least one account");
        var accounts = new List<AccountSpec>();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in doc.Accounts)
        {
            if (string.IsNullOrWhiteSpace(a.Path)) throw new SimulationInputException($"{source}: an account has no 'path'");
            var spec = new AccountSpec(a.Path)
            {
                Shares = a.Shares,
                Guarantee = a.Guarantee ?? [],
                Limit = a.Limit ?? [],
            };
            if (spec.ParentPath.Length > 0 && !paths.Contains(spec.ParentPath))
                throw new SimulationInputException($"{source}: account '{a.Path}': its parent '{spec.ParentPath}' must be listed before it");
            if (!paths.Add(a.Path)) throw new SimulationInputException($"{source}: account '{a.Path}' appears twice");
            accounts.Add(spec);
        }
        var leaves = accounts.Where(a => !accounts.Any(c => c.ParentPath == a.Path)).Select(a => a.Path).ToHashSet(StringComparer.Ordinal);
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var tenant in trace.Select(j => j.Tenant).Distinct(StringComparer.Ordinal))
        {
            string? project = null;
            if (doc.Tenants is not null && doc.Tenants.TryGetValue(tenant, out var mapped)) project = mapped;
            else if (leaves.Contains(tenant)) project = tenant;
            else if (!string.IsNullOrEmpty(doc.Default)) project = doc.Default;
            if (project is null) throw new SimulationInputException($"{source}: trace tenant '{tenant}' is not mapped to a project (add it under 'tenants' or set 'default')");
            if (!leaves.Contains(project)) throw new SimulationInputException($"{source}: tenant '{tenant}' maps to '{project}', which is not a project (a leaf account)");
            map[tenant] = project;
        }
        return new AccountPlan(accounts, map);
    }

    private sealed class AccountsDocument
    {
        public List<AccountDocument>? Accounts { get; set; }
        public Dictionary<string, string>? Tenants { get; set; }
        public string? Default { get; set; }
    }

    private sealed class AccountDocument
    {
        public string Path { get; set; } = "";
        public int Shares { get; set; } = 1;
        public Dictionary<string, int>? Guarantee { get; set; }
        public Dictionary<string, int>? Limit { get; set; }
    }
}
