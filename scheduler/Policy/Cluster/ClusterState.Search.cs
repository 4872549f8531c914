using System.Numerics;

namespace Mekong.Policy.Cluster;

internal sealed partial class ClusterState
{
    /// <summary>Whether any up node of the type has at least <paramref name="gpus"/> GPUs free: O(max GPUs per node).</summary>
    public bool AnyWithFree(int type, int gpus)
    {
        var counts = _freeCount[type];
        if (counts is null) return false;
        for (var k = gpus; k < counts.Length; k++)
            if (counts[k] > 0) return true;
        return false;
    }

    /// <summary>Number of up nodes of the type with at least <paramref name="gpus"/> GPUs free.</summary>
    public int CountWithFree(int type, int gpus)
    {
        var counts = _freeCount[type];
        if (counts is null) return 0;
        var n = 0;
        for (var k = gpus; k < counts.Length; k++) n += counts[k];
        return n;
    }

    /// <summary>The largest free GPU count on any up node of the type.</summary>
    public int MaxFree(int type)
    {
        var counts = _freeCount[type];
        if (counts is null) return 0;
        for (var k = counts.Length - 1; k > 0; k--)
            if (counts[k] > 0) return k;
        return 0;
    }

    /// <summary>Visits up nodes of the type with at least <paramref name="gpus"/> free, fullest first (best fit),
    /// then by node index, until <paramref name="visit"/> returns false.</summary>
    public void ForEachWithFree<TVisitor>(int type, int gpus, ref TVisitor visit)
        where TVisitor : struct, INodeVisitor
    {
        var index = _freeIndex[type];
        if (index is null) return;
        var counts = _freeCount[type];
        for (var k = gpus; k < index.Length; k++)
        {
            if (counts[k] == 0) continue;
            var words = index[k];
            for (var w = 0; w < words.Length; w++)
            {
                for (var bits = words[w]; bits != 0; bits &= bits - 1)
                {
                    var node = (w << 6) + BitOperations.TrailingZeroCount(bits);
                    if (!visit.Visit(node)) return;
                }
            }
        }
    }
}

/// <summary>A struct callback for node walks, so the hot loops inline instead of calling a delegate.</summary>
internal interface INodeVisitor
{
    /// <summary>Returns false to stop the walk.</summary>
    bool Visit(int node);
}
