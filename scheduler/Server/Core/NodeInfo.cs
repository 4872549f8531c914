using Mekong.Policy;

namespace Mekong.Scheduler.Core;

/// <summary>A node as the scheduler knows it: its shape, state, and its agent's session. Loop thread only.</summary>
internal sealed class NodeInfo(NodeSpec spec, NodeState state)
{
    public NodeSpec Spec { get; set; } = spec;

    public NodeState State { get; set; } = state;

    public string? DrainReason { get; set; }

    public string AgentVersion { get; set; } = "";

    /// <summary>The connected agent, or null.</summary>
    public Agents.AgentSession? Session { get; set; }

    /// <summary>When the scheduler last heard from the node's agent (or started, for restored nodes).</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>Whether the session's first heartbeat has been reconciled against its inventory.</summary>
    public bool Reconciled { get; set; }

    /// <summary>Jobs the current session's inventory listed as running here.</summary>
    public HashSet<string> Adopted { get; } = new(StringComparer.Ordinal);
}
