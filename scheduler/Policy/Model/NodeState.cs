namespace Mekong.Policy;

/// <summary>A node's schedulability. Only <see cref="Up"/> nodes take new work.</summary>
public enum NodeState
{
    Up = 0,
    /// <summary>Running jobs continue; nothing new is placed.</summary>
    Draining = 1,
    /// <summary>Lost: its running jobs are failed (and requeued unless they opted out).</summary>
    Down = 2,
}
