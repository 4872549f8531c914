namespace Mekong.Policy.Placement;

/// <summary>Chooses k nodes for a gang among candidates given in preference order: one topology block if
/// any block holds enough (the block with the fewest candidates that still fits — best fit at block level,
/// keeping big blocks whole), else the fewest blocks (largest blocks first).</summary>
internal sealed class GangSelector
{
    private int[] _perBlock = [];
    private int[] _taken = [];
    private readonly List<int> _blocks = [];
    private readonly Comparison<int> _byCandidatesDescending;

    public GangSelector() => _byCandidatesDescending = (x, y) => _perBlock[y] != _perBlock[x] ? _perBlock[y].CompareTo(_perBlock[x]) : x.CompareTo(y);

    /// <summary>Fills <paramref name="chosen"/> with k nodes from <paramref name="candidates"/> (already in
    /// node preference order). Returns false if there are fewer than k.</summary>
    public bool Choose(IReadOnlyList<int> candidates, Func<int, int> blockOf, int blockCount, int k, List<int> chosen)
    {
        chosen.Clear();
        if (candidates.Count < k) return false;
        if (_perBlock.Length < blockCount)
        {
            _perBlock = new int[blockCount];
            _taken = new int[blockCount];
        }
        // Only the blocks holding candidates are counted, and only they are reset after (an earliest-start
        // search chooses at many instants, over few candidates each).
        _blocks.Clear();
        foreach (var n in candidates)
        {
            var b = blockOf(n);
            if (_perBlock[b]++ == 0) _blocks.Add(b);
        }
        ChooseCounted(candidates, blockOf, k, chosen);
        foreach (var b in _blocks) _perBlock[b] = _taken[b] = 0;
        return true;
    }

    private void ChooseCounted(IReadOnlyList<int> candidates, Func<int, int> blockOf, int k, List<int> chosen)
    {
        // The block with the fewest candidates that still holds k; the lowest-numbered among equals.
        var best = -1;
        foreach (var b in _blocks)
            if (_perBlock[b] >= k && (best < 0 || _perBlock[b] < _perBlock[best] || (_perBlock[b] == _perBlock[best] && b < best))) best = b;

        if (best >= 0)
        {
            foreach (var n in candidates)
            {
                if (blockOf(n) != best) continue;
                chosen.Add(n);
                if (chosen.Count == k) return;
            }
            return;
        }

        // No single block: take the largest blocks first, so the gang spans as few as possible.
        _blocks.Sort(_byCandidatesDescending);
        var need = k;
        foreach (var b in _blocks)
        {
            var take = Math.Min(need, _perBlock[b]);
            _taken[b] = take;
            need -= take;
            if (need == 0) break;
        }
        foreach (var n in candidates)
        {
            var b = blockOf(n);
            if (_taken[b] == 0) continue;
            _taken[b]--;
            chosen.Add(n);
        }
    }
}
