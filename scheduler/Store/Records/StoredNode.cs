using Mekong.Policy;

namespace Mekong.Store;

/// <summary>A registered node and its last known schedulability.</summary>
public sealed record StoredNode(NodeSpec Spec, NodeState State);
