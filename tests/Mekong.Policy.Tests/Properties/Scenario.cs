using FsCheck;
using FsCheck.Fluent;

namespace Mekong.Policy.Tests.Properties;

/// <summary>A random test input: a seed that decodes to a cluster and an account tree, and a stream of
/// event codes, each decoding (against the engine's state at that step) to one event. FsCheck shrinks the
/// stream by dropping events and simplifying codes, so a counterexample is short; printing the input gives
/// the replay.</summary>
public sealed record ScenarioInput(int Seed, int[] Events)
{
    public override string ToString() => $"Seed={Seed} Events=[{string.Join(",", Events)}]";

    public static Arbitrary<ScenarioInput> Arbitrary(int maxEvents = 100) =>
        Arb.From(
            from seed in Gen.Choose(0, int.MaxValue - 1)
            from n in Gen.Choose(1, maxEvents)
            from events in Gen.ArrayOf(Gen.Choose(0, 999_999), n)
            select new ScenarioInput(seed, events),
            Shrink);

    private static IEnumerable<ScenarioInput> Shrink(ScenarioInput s)
    {
        var e = s.Events;
        if (e.Length > 1)
        {
            yield return s with { Events = e[..(e.Length / 2)] };
            yield return s with { Events = e[(e.Length / 2)..] };
        }
        for (var i = 0; i < e.Length && e.Length > 1; i++)
            yield return s with { Events = [.. e[..i], .. e[(i + 1)..]] };
        for (var i = 0; i < e.Length; i++)
            if (e[i] >= 100) yield return s with { Events = [.. e[..i], e[i] % 100, .. e[(i + 1)..]] };
    }
}

/// <summary>A deterministic pseudo-random source (SplitMix64) for decoding inputs; no global state.</summary>
public struct Mix(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [lo, hi].</summary>
    public int Range(int lo, int hi) => lo + (int)(Next() % (ulong)(hi - lo + 1));

    public bool Chance(int percent) => Range(1, 100) <= percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[Range(0, items.Count - 1)];
}

/// <summary>The cluster and account tree a seed decodes to.</summary>
public sealed class ClusterDef
{
    private static readonly string[] TypeNames = ["h100", "a100", "l4"];
    private static readonly int[] NodeSizes = [1, 2, 4, 8];

    public List<string> Types { get; } = [];
    public List<NodeSpec> Nodes { get; } = [];
    /// <summary>Parents before children.</summary>
    public List<AccountSpec> Accounts { get; } = [];
    public List<string> Projects { get; } = [];

    public int Capacity(string type) => Nodes.Where(n => n.GpuType == type).Sum(n => n.Gpus);

    /// <summary>1–3 GPU types, 1–12 nodes of 1/2/4/8 GPUs in 1–3 blocks; organisations → projects
    /// (→ sub-projects) with shares, guarantees that respect "children ≤ parent" (and whose top level
    /// adds up to no more than the cluster has of each type), and optional limits.</summary>
    public static ClusterDef Decode(int seed)
    {
        var r = new Mix((ulong)seed * 7919UL + 17);
        var def = new ClusterDef();
        var typeCount = r.Range(1, 3);
        def.Types.AddRange(TypeNames[..typeCount]);
        var blocks = r.Range(1, 3);
        var nodes = r.Range(1, 12);
        for (var i = 0; i < nodes; i++)
            def.Nodes.Add(new NodeSpec($"n{i:00}", r.Pick(def.Types), r.Pick(NodeSizes), 64, 512_000, $"b{r.Range(0, blocks - 1)}"));

        var pool = def.Types.ToDictionary(t => t, def.Capacity);
        var orgs = r.Range(1, 3);
        for (var o = 0; o < orgs; o++)
        {
            var org = def.AddAccount(ref r, $"o{o}", pool);
            var orgPool = def.Types.ToDictionary(t => t, t => org.Guarantee.GetValueOrDefault(t));
            var children = r.Range(1, 3);
            for (var c = 0; c < children; c++)
            {
                var path = $"o{o}/p{c}";
                var split = r.Chance(25);
                var child = def.AddAccount(ref r, path, orgPool);
                if (!split) { def.Projects.Add(path); continue; }
                var childPool = def.Types.ToDictionary(t => t, t => child.Guarantee.GetValueOrDefault(t));
                for (var g = 0; g < 2; g++)
                {
                    def.AddAccount(ref r, $"{path}/q{g}", childPool);
                    def.Projects.Add($"{path}/q{g}");
                }
            }
        }
        return def;
    }

    private AccountSpec AddAccount(ref Mix r, string path, Dictionary<string, int> pool)
    {
        var guarantee = new Dictionary<string, int>();
        var limit = new Dictionary<string, int>();
        foreach (var t in Types)
        {
            if (pool[t] > 0 && r.Chance(70))
            {
                var g = r.Range(0, pool[t]);
                guarantee[t] = g;
                pool[t] -= g;
            }
            if (r.Chance(25)) limit[t] = r.Range(0, Math.Max(1, Capacity(t)));
        }
        var spec = new AccountSpec(path) { Shares = r.Range(1, 4), Guarantee = guarantee, Limit = limit };
        Accounts.Add(spec);
        return spec;
    }
}
