namespace Mekong.Simulation.Setup;

/// <summary>How a job's walltime limit (what backfill plans with) is derived from its actual run time,
/// since traces record only the latter.</summary>
public enum WalltimeModel
{
    /// <summary>The next of 1 h, 4 h, 12 h, 24 h, 72 h, 168 h (then whole weeks): what users pick from a menu.</summary>
    Roundup = 0,
    /// <summary>The exact run time: perfect user estimates (an upper bound on what backfill can do).</summary>
    Exact = 1,
    /// <summary>Twice the run time.</summary>
    X2 = 2,
}

public static class WalltimeModels
{
    private static readonly long[] Ladder = [3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600, 168 * 3600];

    public static long LimitSeconds(this WalltimeModel model, long durationS)
    {
        switch (model)
        {
            case WalltimeModel.Exact: return durationS;
            case WalltimeModel.X2: return 2 * durationS;
            default:
                foreach (var step in Ladder)
                    if (durationS <= step) return step;
                var week = Ladder[^1];
                return (durationS + week - 1) / week * week;
        }
    }

    public static WalltimeModel Parse(string text) => text.ToLowerInvariant() switch
    {
        "roundup" => WalltimeModel.Roundup,
        "exact" => WalltimeModel.Exact,
        "x2" => WalltimeModel.X2,
        _ => throw new SimulationInputException($"--walltime '{text}': expected exact, x2 or roundup"),
    };
}
