using Mekong.Policy;
using Mekong.Store;

namespace Mekong.Scheduler.Core;

/// <summary>Why the scheduler told a running job to stop: decides what its exit means.</summary>
internal enum StopIntent
{
    None = 0,
    Cancel,
    Preempt,
    GangFailed,
}

/// <summary>A job the scheduler still has in hand (pending, held, preempted or running), as the loop sees it:
/// the stored record plus what only a live job has (which ranks still run, why it is being stopped).
/// Touched only on the loop thread.</summary>
internal sealed class LiveJob(JobSpec spec, JobCommand command, JobState state)
{
    public JobSpec Spec { get; set; } = spec;

    public JobCommand Command { get; } = command;

    public JobState State { get; set; } = state;

    public DateTimeOffset? StartTime { get; set; }

    public DateTimeOffset? EndTime { get; set; }

    public IReadOnlyList<NodeAllocation> Allocations { get; set; } = [];

    public string? GpuType { get; set; }

    public bool Borrowing { get; set; }

    public int? ExitCode { get; set; }

    public string? Reason { get; set; }

    /// <summary>The user who cancelled it; null unless a user did.</summary>
    public string? CancelledBy { get; set; }

    /// <summary>Increases with every start, so an agent's report of an earlier run is told apart.</summary>
    public uint Attempt { get; set; }

    public StopIntent Stop { get; set; }

    /// <summary>Nodes whose rank has not yet reported its end.</summary>
    public HashSet<string> RanksRunning { get; } = new(StringComparer.Ordinal);

    /// <summary>A rank ended badly (non-zero, killed, failed to start) or at its walltime.</summary>
    public bool Failed { get; set; }

    public bool TimedOut { get; set; }

    /// <summary>The latest usage sample of the current run, per node.</summary>
    public Dictionary<string, Mekong.Api.V1.UsageSample> Usage { get; } = new(StringComparer.Ordinal);

    public JobId Id => Spec.Id;

    public static LiveJob From(StoredJob stored) => new(stored.Spec, stored.Command, stored.State)
    {
        StartTime = stored.StartTime,
        EndTime = stored.EndTime,
        Allocations = stored.Allocations,
        GpuType = stored.AllocatedType,
        Borrowing = stored.Borrowing,
        ExitCode = stored.ExitCode,
        Reason = stored.Reason,
        CancelledBy = stored.CancelledBy,
        Attempt = (uint)stored.Spec.PreemptionCount + 1,
    };

    public StoredJob ToStored() => new(Spec, Command, State)
    {
        StartTime = StartTime,
        EndTime = EndTime,
        Allocations = Allocations,
        AllocatedType = GpuType,
        Borrowing = Borrowing,
        ExitCode = ExitCode,
        Reason = Reason,
        CancelledBy = CancelledBy,
    };
}
