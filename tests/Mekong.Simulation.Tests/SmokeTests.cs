namespace Mekong.Simulation.Tests;

public class SmokeTests
{
    [Fact]
    public void Simulation_assembly_is_named()
    {
        Assert.Equal("Mekong.Simulation", SimulationInfo.Name);
    }
}
