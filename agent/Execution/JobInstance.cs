using Google.Protobuf.WellKnownTypes;
using Mekong.Agent.Native;
using Mekong.Api.V1;

namespace Mekong.Agent.Execution;

/// <summary>
/// One job attempt on this node, real or simulated: its walltime, the SIGTERM → grace → SIGKILL
/// sequence of a stop, and how its end maps to an <see cref="AgentJobState"/>:
/// exited by itself → EXITED, after a StopJob → STOPPED, after its walltime → TIMED_OUT.
/// </summary>
public abstract class JobInstance
{
    private readonly Lock _gate = new();
    private ITimer? _walltimeTimer;
    private ITimer? _killTimer;

    protected JobInstance(JobRunner runner, string jobId, uint attempt, IReadOnlyList<uint> gpus,
        DateTimeOffset startTime, TimeSpan? walltime, TimeSpan grace)
    {
        Runner = runner;
        JobId = jobId;
        Attempt = attempt;
        Gpus = gpus;
        StartTime = startTime;
        Walltime = walltime;
        Grace = grace;
    }

    public string JobId { get; }

    public uint Attempt { get; }

    public IReadOnlyList<uint> Gpus { get; }

    public DateTimeOffset StartTime { get; }

    public TimeSpan? Walltime { get; }

    public TimeSpan Grace { get; }

    /// <summary>Set when a stop or the walltime began.</summary>
    public StopKind? Stopping { get; private set; }

    /// <summary>The final state change, once the job ended.</summary>
    public JobStateChange? Final { get; private set; }

    public bool IsFinished => Final is not null;

    /// <summary>Output files (null for simulated jobs).</summary>
    public virtual string? StdoutPath => null;

    public virtual string? StderrPath => null;

    protected JobRunner Runner { get; }

    protected TimeProvider Time => Runner.Time;

    /// <summary>The proto's view of a running job (Inventory.running_jobs).</summary>
    public RunningJob ToRunningJob()
    {
        var r = new RunningJob { JobId = JobId, Attempt = Attempt, StartTime = Timestamp.FromDateTimeOffset(StartTime) };
        r.GpuIndices.AddRange(Gpus);
        return r;
    }

    /// <summary>Arms the walltime (from the start time, so a re-adopted job keeps its original limit).</summary>
    public void ArmWalltime()
    {
        if (Walltime is not { } walltime || walltime <= TimeSpan.Zero)
        {
            return;
        }

        var due = StartTime + walltime - Time.GetUtcNow();
        lock (_gate)
        {
            _walltimeTimer = Time.CreateTimer(_ => RequestStop(StopKind.Walltime, Grace), null,
                due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Ends the job: SIGTERM to all its processes, SIGKILL after the grace (at once for a zero grace).
    /// A second request while stopping only shortens the grace.
    /// </summary>
    public void RequestStop(StopKind kind, TimeSpan grace)
    {
        var killAt = Time.GetUtcNow() + grace;
        lock (_gate)
        {
            if (Final is not null)
            {
                return;
            }

            if (Stopping is not null)
            {
                if (grace <= TimeSpan.Zero)
                {
                    _killTimer?.Dispose();
                    _killTimer = null;
                }
                else
                {
                    return;
                }
            }
            else
            {
                Stopping = kind;
                OnStopping(kind, killAt);
            }

            if (grace > TimeSpan.Zero)
            {
                _killTimer = Time.CreateTimer(_ => Signal(Libc.SIGKILL), null, grace, Timeout.InfiniteTimeSpan);
            }
        }

        Signal(grace > TimeSpan.Zero ? Libc.SIGTERM : Libc.SIGKILL);
    }

    /// <summary>Re-arms a stop a previous agent began (after adoption).</summary>
    protected void ResumeStop(StopKind kind, DateTimeOffset killAt)
    {
        lock (_gate)
        {
            Stopping = kind;
            var left = killAt - Time.GetUtcNow();
            _killTimer = Time.CreateTimer(_ => Signal(Libc.SIGKILL), null, left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sends a signal to every process of the job.</summary>
    protected abstract void Signal(int signal);

    /// <summary>Persists the end.</summary>
    protected virtual void OnCompleted(JobStateChange change)
    {
    }

    /// <summary>Persists that a stop began.</summary>
    protected virtual void OnStopping(StopKind kind, DateTimeOffset killAt)
    {
    }

    /// <summary>Records the end and tells the runner. Exit code 128+N and signal N for a process a signal killed.</summary>
    protected JobStateChange Complete(int exitCode, int signal, string message)
    {
        JobStateChange change;
        lock (_gate)
        {
            if (Final is not null)
            {
                return Final;
            }

            _walltimeTimer?.Dispose();
            _killTimer?.Dispose();
            var state = Stopping switch
            {
                StopKind.Walltime => AgentJobState.TimedOut,
                StopKind.Stop => AgentJobState.Stopped,
                _ => AgentJobState.Exited,
            };
            if (message.Length == 0)
            {
                message = state switch
                {
                    AgentJobState.TimedOut => $"walltime {Walltime} passed",
                    AgentJobState.Stopped => "stopped",
                    _ => "",
                };
            }

            change = Runner.Change(JobId, Attempt, state, message);
            change.ExitCode = exitCode;
            change.Signal = signal;
            Final = change;
        }

        // Persisted before it is raised: once raised it may be sent and forgotten at any moment.
        OnCompleted(change);
        Runner.OnFinished(this, change);
        return change;
    }

    /// <summary>Marks a job that ended before an agent restart as ended, with the state it ended in.</summary>
    internal JobStateChange RestoreFinal(JobStateChange final)
    {
        lock (_gate)
        {
            Final = final;
            return final;
        }
    }

    /// <summary>Stops timers without touching the process (the agent is going away; the job is not).</summary>
    internal virtual void Abandon()
    {
        lock (_gate)
        {
            _walltimeTimer?.Dispose();
            _killTimer?.Dispose();
        }
    }
}
