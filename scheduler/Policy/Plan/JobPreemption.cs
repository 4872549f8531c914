namespace Mekong.Policy;

/// <summary>Why a running job is being stopped to make room.</summary>
public enum PreemptionKind
{
    /// <summary>A guaranteed job of another account reclaims lent capacity.</summary>
    GuaranteeReclaim = 0,
    /// <summary>A <c>high</c> job of the same project displaces a <c>low</c> one (where the project allows it).</summary>
    Priority = 1,
}

/// <summary>Send SIGTERM to <paramref name="Victim"/>, SIGKILL after <paramref name="GracePeriod"/>; it goes back to pending.</summary>
public sealed record JobPreemption(JobId Victim, JobId For, PreemptionKind Kind, TimeSpan GracePeriod);
