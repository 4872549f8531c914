namespace Mekong.Policy;

/// <summary>A job's state as the core sees it. Terminal states live in the host's store, not here.</summary>
public enum JobStatus
{
    Pending = 0,
    Running = 1,
    /// <summary>Told to stop (preempted or cancelled); it still holds its GPUs until the agent reports it gone.</summary>
    Terminating = 2,
}
