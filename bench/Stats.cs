namespace Mekong.Bench;

/// <summary>Order statistics of a sample (nearest-rank percentiles).</summary>
internal static class Stats
{
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);

    public static double Round(double v, int digits = 3) => Math.Round(v, digits, MidpointRounding.AwayFromZero);
}
