namespace Mekong.Simulation;

/// <summary>Trace replay on the real policy core (see issue: trace replay and mekong simulate).</summary>
public static class SimulationInfo
{
    public const string Name = "Mekong.Simulation";
}
