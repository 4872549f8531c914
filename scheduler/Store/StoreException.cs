namespace Mekong.Store;

/// <summary>A mutation or open the store refuses: invalid input, an unknown or wrong-state job, a database
/// newer than this build. Only the caller whose mutation was refused sees it; the rest of its batch commits.</summary>
public sealed class StoreException : Exception
{
    public StoreException(string message) : base(message) { }

    public StoreException() { }

    public StoreException(string message, Exception innerException) : base(message, innerException) { }
}
