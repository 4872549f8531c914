using System.Collections.Frozen;

namespace Mekong.Scheduler.Core;

/// <summary>What request validation needs to know about the cluster and the account tree, published by the
/// loop after every change so API threads read it without asking the loop.</summary>
/// <param name="Accounts">Every account path and whether it is a project (a leaf).</param>
/// <param name="NodesOfType">Registered nodes per GPU type (any state).</param>
/// <param name="MaxGpusOfType">Most GPUs on one node of the type.</param>
/// <param name="QuotaTypes">GPU types named in some account's guarantee or limit.</param>
internal sealed record Catalog(
    FrozenDictionary<string, bool> Accounts,
    FrozenDictionary<string, int> NodesOfType,
    FrozenDictionary<string, int> MaxGpusOfType,
    FrozenSet<string> QuotaTypes)
{
    public static Catalog Empty { get; } = new(
        FrozenDictionary<string, bool>.Empty, FrozenDictionary<string, int>.Empty, FrozenDictionary<string, int>.Empty, FrozenSet<string>.Empty);

    public int TotalNodes => NodesOfType.Values.Sum();

    public bool KnowsType(string type) => NodesOfType.ContainsKey(type) || QuotaTypes.Contains(type);

    public IEnumerable<string> Types => NodesOfType.Keys.Concat(QuotaTypes).Distinct().Order(StringComparer.Ordinal);
}
