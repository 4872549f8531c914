using System.Globalization;
using Mekong.Agent.Native;
using Mekong.Api.V1;

namespace Mekong.Agent.Execution;

/// <summary>
/// A job that spawns no process (--simulate-execution): it runs for env MEKONG_SIM_DURATION_S seconds
/// (forever when unset) and exits with MEKONG_SIM_EXIT_CODE (0); a stop ends it at once, as a process
/// that dies of SIGTERM. Only timers: hundreds of agents with thousands of jobs fit in one process.
/// </summary>
public sealed class SimulatedJob : JobInstance
{
    private readonly ITimer? _exitTimer;

    public SimulatedJob(JobRunner runner, StartJob job, TimeSpan grace)
        : base(runner, job.JobId, job.Attempt, job.GpuIndices.ToArray(), runner.Time.GetUtcNow(), job.Walltime?.ToTimeSpan(), grace)
    {
        var exitCode = job.Env.TryGetValue("MEKONG_SIM_EXIT_CODE", out var c) && int.TryParse(c, CultureInfo.InvariantCulture, out var code) ? code : 0;
        if (job.Env.TryGetValue("MEKONG_SIM_DURATION_S", out var d) && double.TryParse(d, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            _exitTimer = Time.CreateTimer(_ => Complete(exitCode, 0, ""), null, TimeSpan.FromSeconds(seconds), Timeout.InfiniteTimeSpan);
        }
    }

    protected override void Signal(int signal)
    {
        _exitTimer?.Dispose();
        Complete(128 + signal, signal, "");
    }

    internal override void Abandon()
    {
        base.Abandon();
        _exitTimer?.Dispose();
    }
}
