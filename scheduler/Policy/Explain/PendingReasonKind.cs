namespace Mekong.Policy;

/// <summary>The one authoritative reason a job is pending. The same words flow to the API, CLI and metrics.</summary>
public enum PendingReasonKind
{
    /// <summary>Not looked at yet (submitted after the last full pass).</summary>
    None = 0,
    /// <summary>Capacity exists but is reserved for, or taken by, higher-ranked jobs.</summary>
    Priority,
    /// <summary>Not enough free GPUs (or CPU, memory) of the type on the nodes it needs.</summary>
    Resources,
    /// <summary>An account on the job's path is at its limit, or the job cannot borrow past its guarantee.</summary>
    QuotaLimit,
    /// <summary>The project's (or an ancestor's) budget for the period is spent and the account holds new jobs.</summary>
    Budget,
    /// <summary>The job holds a reservation and starts at the estimated time; or it waits for its victims' grace period.</summary>
    Reserved,
    /// <summary>An admin or the user holds the job.</summary>
    Held,
    /// <summary>No node of the requested GPU type is up.</summary>
    NodeTypeUnavailable,
    /// <summary>The request can never be met by this cluster (more GPUs per node or more nodes than exist).</summary>
    Unsatisfiable,
}

/// <summary>Kebab-case names used on the wire and in the CLI.</summary>
public static class PendingReasonNames
{
    public static string ToWire(this PendingReasonKind kind) => kind switch
    {
        PendingReasonKind.Priority => "priority",
        PendingReasonKind.Resources => "resources",
        PendingReasonKind.QuotaLimit => "quota-limit",
        PendingReasonKind.Budget => "budget",
        PendingReasonKind.Reserved => "reserved",
        PendingReasonKind.Held => "held",
        PendingReasonKind.NodeTypeUnavailable => "node-type-unavailable",
        PendingReasonKind.Unsatisfiable => "unsatisfiable",
        _ => "none",
    };
}
