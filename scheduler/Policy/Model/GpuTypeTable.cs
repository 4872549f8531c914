namespace Mekong.Policy;

/// <summary>Dense indexes for GPU type names, so hot paths index arrays instead of hashing strings.</summary>
internal sealed class GpuTypeTable
{
    /// <summary>Per-account arrays are sized to this; a centre with more GPU models is not expected.</summary>
    public const int MaxTypes = 32;

    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    public int Count => _names.Count;

    public string NameOf(int index) => _names[index];

    public bool TryGet(string name, out int index) => _byName.TryGetValue(name, out index);

    public int GetOrAdd(string name)
    {
        if (_byName.TryGetValue(name, out var index)) return index;
        if (_names.Count == MaxTypes) throw new PolicyException($"too many GPU types (at most {MaxTypes})");
        index = _names.Count;
        _names.Add(name);
        _byName.Add(name, index);
        return index;
    }
}
