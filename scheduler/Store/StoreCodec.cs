using System.Text.Json;
using Mekong.Policy;

namespace Mekong.Store;

/// <summary>How model values are written to columns and read back: JSON for maps and lists, stable
/// lowercase names for enums, UTC ticks for times. Both backends store exactly these values.</summary>
internal static class StoreCodec
{
    public static string Json(IReadOnlyDictionary<string, int> map) => JsonSerializer.Serialize(map);

    public static string Json(IReadOnlyDictionary<string, string> map) => JsonSerializer.Serialize(map);

    public static string Json(IReadOnlyList<string> list) => JsonSerializer.Serialize(list);

    public static string Json(IReadOnlyList<NodeAllocation> allocations) =>
        JsonSerializer.Serialize(allocations.Select(a => new AllocationJson(a.Node, a.GpuMask)).ToArray());

    public static Dictionary<string, int> IntMap(string json) => JsonSerializer.Deserialize<Dictionary<string, int>>(json) ?? [];

    public static Dictionary<string, string> StringMap(string json) => JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    public static string[] StringList(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    public static NodeAllocation[] Allocations(string? json) =>
        json is null ? [] : (JsonSerializer.Deserialize<AllocationJson[]>(json) ?? []).Select(a => new NodeAllocation(a.Node, a.Mask)).ToArray();

    public static long Ticks(DateTimeOffset t) => t.UtcTicks;

    public static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    public static int Bool(bool b) => b ? 1 : 0;

    public static string Text(JobPriority p) => p switch
    {
        JobPriority.Low => "low",
        JobPriority.High => "high",
        _ => "normal",
    };

    public static JobPriority Priority(string s) => s switch
    {
        "low" => JobPriority.Low,
        "high" => JobPriority.High,
        "normal" => JobPriority.Normal,
        _ => throw new StoreException($"unknown priority '{s}' in the store"),
    };

    public static string Text(Policy.NodeState s) => s switch
    {
        Policy.NodeState.Up => "up",
        Policy.NodeState.Draining => "draining",
        Policy.NodeState.Down => "down",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "unknown node state"),
    };

    public static NodeState NodeState(string s) => s switch
    {
        "up" => Policy.NodeState.Up,
        "draining" => Policy.NodeState.Draining,
        "down" => Policy.NodeState.Down,
        _ => throw new StoreException($"unknown node state '{s}' in the store"),
    };

    public static string Text(BudgetPeriod p) => p switch
    {
        BudgetPeriod.Month => "month",
        BudgetPeriod.Quarter => "quarter",
        BudgetPeriod.Year => "year",
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "unknown budget period"),
    };

    public static BudgetPeriod Period(string s) => s switch
    {
        "month" => BudgetPeriod.Month,
        "quarter" => BudgetPeriod.Quarter,
        "year" => BudgetPeriod.Year,
        _ => throw new StoreException($"unknown budget period '{s}' in the store"),
    };

    public static string Text(BudgetAction a) => a switch
    {
        BudgetAction.Hold => "hold",
        BudgetAction.Scavenge => "scavenge",
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, "unknown budget action"),
    };

    public static BudgetAction Action(string s) => s switch
    {
        "hold" => BudgetAction.Hold,
        "scavenge" => BudgetAction.Scavenge,
        _ => throw new StoreException($"unknown budget action '{s}' in the store"),
    };

    public static string Text(AccountKind k) => k switch
    {
        AccountKind.Organisation => "organisation",
        AccountKind.Project => "project",
        _ => throw new ArgumentOutOfRangeException(nameof(k), k, "unknown account kind"),
    };

    public static AccountKind Kind(string s) => s switch
    {
        "organisation" => AccountKind.Organisation,
        "project" => AccountKind.Project,
        _ => throw new StoreException($"unknown account kind '{s}' in the store"),
    };

    public static string Text(OrganisationClass c) => c switch
    {
        OrganisationClass.Academic => "academic",
        OrganisationClass.Government => "government",
        OrganisationClass.Enterprise => "enterprise",
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, "unknown organisation class"),
    };

    public static OrganisationClass Class(string s) => s switch
    {
        "academic" => OrganisationClass.Academic,
        "government" => OrganisationClass.Government,
        "enterprise" => OrganisationClass.Enterprise,
        _ => throw new StoreException($"unknown organisation class '{s}' in the store"),
    };

    private sealed record AllocationJson(string Node, ulong Mask);
}
