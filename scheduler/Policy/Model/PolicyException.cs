namespace Mekong.Policy;

/// <summary>An event the core cannot accept (unknown account, invalid shape, broken quota tree).
/// The core's state is unchanged when it is thrown.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException(string message) : base(message) { }

    public PolicyException() { }

    public PolicyException(string message, Exception innerException) : base(message, innerException) { }
}
