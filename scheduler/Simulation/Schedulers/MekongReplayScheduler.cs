using Mekong.Policy;
using Mekong.Simulation.Setup;

namespace Mekong.Simulation.Schedulers;

/// <summary>Drives the real policy core: the same <see cref="PolicyEngine"/> the server runs, on a simulated clock.</summary>
internal sealed class MekongReplayScheduler : IReplayScheduler
{
    private readonly PolicyEngine _engine;
    private readonly SimJob[] _jobs;
    private readonly string[] _projects;

    public MekongReplayScheduler(ClusterSpec cluster, AccountPlan accounts, PolicySettings settings, SimulatedClock clock, SimJob[] jobs, string[] projects)
    {
        var weights = new Dictionary<string, double>(cluster.TypeWeights, StringComparer.Ordinal);
        foreach (var (type, w) in settings.GpuTypeWeights) weights[type] = w;
        _engine = new PolicyEngine(settings with { GpuTypeWeights = weights }, clock);
        foreach (var node in cluster.Nodes) _engine.NodeUp(node);
        foreach (var account in accounts.Accounts)
        {
            try
            {
                _engine.SetAccount(account);
            }
            catch (PolicyException e)
            {
                throw new SimulationInputException($"accounts: {e.Message}", e);
            }
        }
        _jobs = jobs;
        _projects = projects;
    }

    public void Submit(SimJob job) => _engine.Submit(new JobSpec(
        new JobId(job.Index + 1L),
        _projects[job.Project],
        job.Trace.User,
        job.Trace.JobId,
        job.Nodes,
        job.GpusPerNode,
        job.GpuType,
        TimeSpan.FromSeconds(job.WalltimeS),
        SimulatedClock.At(job.Trace.SubmitS)));

    public void Finish(SimJob job, bool completed)
    {
        var id = new JobId(job.Index + 1L);
        var outcome = _engine.Finish(id);
        // A victim that finished its work inside its grace period is done, not requeued.
        if (completed && outcome == FinishOutcome.Requeued) _engine.Cancel(id);
    }

    public void Decide(List<SimJob> started, List<(SimJob Victim, long GraceS)> preempted)
    {
        var plan = _engine.Decide();
        foreach (var s in plan.Starts) started.Add(_jobs[s.Job.Value - 1]);
        foreach (var p in plan.Preemptions)
            preempted.Add((_jobs[p.Victim.Value - 1], (long)Math.Ceiling(p.GracePeriod.TotalSeconds)));
    }
}
