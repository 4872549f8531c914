using Mekong.Policy;
using Mekong.Simulation.Setup;

namespace Mekong.Simulation;

/// <summary>Which scheduler a replay drives.</summary>
public enum ReplayPolicy
{
    /// <summary>The real policy core.</summary>
    Mekong = 0,
    /// <summary>Strict first-come first-served, first fit, no backfill, no preemption: the baseline.</summary>
    Fifo = 1,
}

/// <summary>One replay's knobs.</summary>
public sealed record SimulationOptions
{
    /// <summary>Label in reports (for example <c>mekong</c>, <c>fifo</c>, or a settings variant).</summary>
    public string Name { get; init; } = "mekong";

    public ReplayPolicy Policy { get; init; } = ReplayPolicy.Mekong;

    public PolicySettings Settings { get; init; } = new();

    public WalltimeModel Walltime { get; init; } = WalltimeModel.Roundup;

    /// <summary>A preempted job keeps its progress at multiples of this many seconds; 0 = it restarts from scratch.</summary>
    public long CheckpointEveryS { get; init; }
}
