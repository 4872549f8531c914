using Mekong.Policy;

namespace Mekong.Bench;

/// <summary>Running job ids with O(1) add, remove and uniform random pick.</summary>
internal sealed class RunningSet
{
    private readonly List<JobId> _ids = [];
    private readonly Dictionary<JobId, int> _index = [];

    public int Count => _ids.Count;

    public void Add(JobId id)
    {
        _index.Add(id, _ids.Count);
        _ids.Add(id);
    }

    public bool Remove(JobId id)
    {
        if (!_index.Remove(id, out var i)) return false;
        var last = _ids[^1];
        _ids.RemoveAt(_ids.Count - 1);
        if (i < _ids.Count)
        {
            _ids[i] = last;
            _index[last] = i;
        }
        return true;
    }

    public JobId TakeAt(int i)
    {
        var id = _ids[i];
        Remove(id);
        return id;
    }
}
