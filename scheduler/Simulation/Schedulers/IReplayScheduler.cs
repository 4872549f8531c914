namespace Mekong.Simulation.Schedulers;

/// <summary>What the replay needs from a scheduler: events in, starts and preemptions out.</summary>
internal interface IReplayScheduler
{
    void Submit(SimJob job);

    /// <summary>The job's process ended: <paramref name="completed"/> when it finished its work, otherwise it
    /// was killed after a preemption and goes back to pending.</summary>
    void Finish(SimJob job, bool completed);

    /// <summary>Decides after a batch of same-time events. Starts are in effect at once; each victim must be
    /// finished by the caller after its grace period (seconds).</summary>
    void Decide(List<SimJob> started, List<(SimJob Victim, long GraceS)> preempted);
}
