namespace Mekong.Policy.Jobs;

/// <summary>Every project's pending shape groups, indexed by shape: for each shape, the projects with a
/// group of it, ordered by the group's shortest walltime. A decision asks it "which projects have a job of
/// this shape short enough to fit now" without walking every project's groups.</summary>
internal sealed class QueuedShapes
{
    // Sorted lists rather than sorted sets: a decision reads them in order, and a SortedSet allocates for each enumeration.
    private readonly Dictionary<ShapeKey, List<(long MinWalltime, int Project)>> _byShape = [];

    /// <summary>Per shape, the projects with a group of it by the group's shortest walltime (ascending).</summary>
    public Dictionary<ShapeKey, List<(long MinWalltime, int Project)>> Shapes => _byShape;

    /// <summary>The project's group of the shape changed its shortest walltime (long.MaxValue: no group).</summary>
    public void Update(ShapeKey shape, int project, long before, long after)
    {
        if (before == after) return;
        if (!_byShape.TryGetValue(shape, out var set)) _byShape.Add(shape, set = []);
        if (before != long.MaxValue) set.RemoveAt(set.BinarySearch((before, project)));
        if (after != long.MaxValue)
        {
            var at = set.BinarySearch((after, project));
            set.Insert(at < 0 ? ~at : at, (after, project));
        }
    }
}
