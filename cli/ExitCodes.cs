namespace Mekong.Cli;

/// <summary>The CLI's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The server said no, or could not be reached.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong; nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl-C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;
}
