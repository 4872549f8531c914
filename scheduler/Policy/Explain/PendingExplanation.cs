namespace Mekong.Policy;

/// <summary>Why a job waits, with the numbers behind it, and when it is estimated to start.</summary>
/// <param name="Account">The account the numbers are about (for quota and budget reasons), else the job's project.</param>
/// <param name="GpuType">The GPU type the numbers count.</param>
/// <param name="Requested">What the job asks for, in GPUs (total).</param>
/// <param name="Held">What the account holds now (quota), GPU-hours used (budget), or the most GPUs free on a fitting node (resources).</param>
/// <param name="Cap">The limit or guarantee (quota), the budget in GPU-hours, or GPUs per node (resources).</param>
/// <param name="EstimatedStart">From the reservation map, where it gives one.</param>
/// <param name="BlockedBy">The reserved job that holds the capacity, for <see cref="PendingReasonKind.Priority"/>.</param>
public sealed record PendingExplanation(
    JobId Job,
    PendingReasonKind Reason,
    string Account,
    string? GpuType,
    long Requested,
    long Held,
    long Cap,
    DateTimeOffset? EstimatedStart,
    JobId? BlockedBy)
{
    /// <summary>For <see cref="PendingReasonKind.QuotaLimit"/>: the guarantee is used up and this job may not
    /// borrow (not preemptible, or preempted too often); <see cref="Held"/>/<see cref="Cap"/> are the guarantee.</summary>
    public bool CannotBorrow { get; init; }

    /// <summary>For <see cref="PendingReasonKind.QuotaLimit"/>: the account already holds its entitled share of the
    /// cluster (<see cref="Held"/> of <see cref="Cap"/> GPUs, all types) while other projects with queued jobs hold
    /// less than theirs, so this job may not borrow until that changes — or holds enough of it that this job would take
    /// it too far past it (see PolicySettings.BorrowBeyondFairShare and BorrowAnySizeBelowShare).</summary>
    public bool AtFairShare { get; init; }

    /// <summary>One line for people, for example <c>quota-limit: project uni-a/vision at 32/32 h100</c>.</summary>
    public string Message => Reason switch
    {
        PendingReasonKind.QuotaLimit when CannotBorrow =>
            $"quota-limit: {Account} at {Held}/{Cap} {GpuType} guaranteed, job needs {Requested} and may not borrow",
        PendingReasonKind.QuotaLimit when AtFairShare =>
            $"quota-limit: {Account} holds {Held} GPUs, its fair share is {Cap} while others wait; job needs {Requested} and may not borrow now",
        PendingReasonKind.QuotaLimit => $"quota-limit: {Account} at {Held}/{Cap} {GpuType}, job needs {Requested}",
        PendingReasonKind.Budget => $"budget: {Account} used {Held}/{Cap} GPU-hours this period",
        PendingReasonKind.Resources => $"resources: needs {Requested} {GpuType ?? "GPU"}; at most {Held} of {Cap} free on a fitting node",
        PendingReasonKind.Priority => $"priority: capacity is held for higher-ranked job {BlockedBy?.ToString() ?? "(queue)"}",
        PendingReasonKind.Reserved => $"reserved: {Requested} {GpuType} held for this job from {EstimatedStart:u}",
        PendingReasonKind.Held => "held: by an admin or the user",
        PendingReasonKind.NodeTypeUnavailable => $"node-type-unavailable: no {GpuType ?? "GPU"} node is up",
        PendingReasonKind.Unsatisfiable => $"unsatisfiable: the cluster has no {Requested} {GpuType ?? "GPU"} in the requested shape",
        _ => "pending: not yet considered by a scheduling pass",
    };
}
