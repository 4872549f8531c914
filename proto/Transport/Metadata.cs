using System.Collections;

namespace Mekong.Transport;

/// <summary>
/// Call metadata: request headers, response headers or trailers. Keys are lower-case ASCII; a key may
/// repeat. Binary ("-bin") values are carried as their base64 text.
/// </summary>
public sealed class Metadata : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _entries = [];

    public int Count => _entries.Count;

    /// <summary>Adds an entry; the key is lower-cased.</summary>
    public Metadata Add(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        _entries.Add(new(key.ToLowerInvariant(), value));
        return this;
    }

    /// <summary>The first value of a key, or null.</summary>
    public string? Get(string key)
    {
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Value;
            }
        }

        return null;
    }

    /// <summary>Every value of a key, in order.</summary>
    public IEnumerable<string> GetAll(string key) =>
        _entries.Where(e => string.Equals(e.Key, key, StringComparison.OrdinalIgnoreCase)).Select(e => e.Value);

    /// <summary>The entries in order (a struct enumerator: a foreach allocates nothing).</summary>
    public List<KeyValuePair<string, string>>.Enumerator GetEnumerator() => _entries.GetEnumerator();

    IEnumerator<KeyValuePair<string, string>> IEnumerable<KeyValuePair<string, string>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
