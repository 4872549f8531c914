namespace Mekong.Policy.FairShare;

/// <summary>An account's standing among its siblings — the Fair Tree level fair share
/// (Slurm's Fair Tree algorithm): <c>S / U</c> with S = shares / Σ sibling shares and
/// U = usage / Σ sibling usage. Higher goes first: an account that used less than its entitlement
/// ranks above one that used more. No usage at all ranks highest.</summary>
/// <remarks>The one comparison: ratio descending, then shares descending, then name ordinal — so equal
/// inputs always give one order.</remarks>
internal readonly record struct FairShareKey(double Ratio, int Shares, string Name) : IComparable<FairShareKey>
{
    public static FairShareKey For(int shares, long siblingShares, double usage, double siblingUsage, string name)
    {
        var s = (double)shares / siblingShares;
        var u = siblingUsage > 0 ? usage / siblingUsage : 0;
        return new FairShareKey(u > 0 ? s / u : double.PositiveInfinity, shares, name);
    }

    public int CompareTo(FairShareKey other)
    {
        var c = other.Ratio.CompareTo(Ratio);
        if (c != 0) return c;
        c = other.Shares.CompareTo(Shares);
        return c != 0 ? c : string.CompareOrdinal(Name, other.Name);
    }
}
