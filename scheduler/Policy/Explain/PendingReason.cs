namespace Mekong.Policy;

/// <summary>The compact form of an explanation kept on every pending job (no strings, no allocation);
/// <see cref="PolicyEngine.Explain"/> turns it into a <see cref="PendingExplanation"/>.</summary>
internal readonly record struct PendingReason(
    PendingReasonKind Kind,
    int Account,
    int Type,
    long Requested,
    long Held,
    long Cap,
    long EstimatedStartTicks,
    long BlockedBy)
{
    /// <summary>For <see cref="PendingReasonKind.QuotaLimit"/>: the guarantee is used up and the job may not borrow.</summary>
    public bool CannotBorrow { get; init; }

    /// <summary>For <see cref="PendingReasonKind.QuotaLimit"/>: the account holds its entitled share of the cluster
    /// while others wait below theirs, so the job may not borrow now (Held/Cap: GPUs held / entitled).</summary>
    public bool AtFairShare { get; init; }

    public static PendingReason Of(PendingReasonKind kind, int account, int type, long requested, long held = 0, long cap = 0) =>
        new(kind, account, type, requested, held, cap, 0, 0);
}
