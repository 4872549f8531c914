namespace Mekong.Simulation;

/// <summary>Invalid simulator input (trace row, cluster or accounts file, option value). The message names
/// the file and line where one is known, so the admin can fix it.</summary>
public sealed class SimulationInputException : Exception
{
    public SimulationInputException(string message) : base(message) { }

    public SimulationInputException() { }

    public SimulationInputException(string message, Exception innerException) : base(message, innerException) { }
}
