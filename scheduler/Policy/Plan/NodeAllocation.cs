using System.Numerics;

namespace Mekong.Policy;

/// <summary>The GPUs (and CPU, memory) a job holds on one node. GPU indices are a bit mask.</summary>
public readonly record struct NodeAllocation(string Node, ulong GpuMask)
{
    public int GpuCount => BitOperations.PopCount(GpuMask);

    /// <summary>GPU indices in ascending order, as <c>CUDA_VISIBLE_DEVICES</c> lists them.</summary>
    public IReadOnlyList<int> GpuIndices
    {
        get
        {
            var list = new List<int>(GpuCount);
            for (var m = GpuMask; m != 0; m &= m - 1) list.Add(BitOperations.TrailingZeroCount(m));
            return list;
        }
    }
}
