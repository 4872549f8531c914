using Google.Protobuf.WellKnownTypes;
using Mekong.Agent.ControlGroups;
using Mekong.Agent.Discovery;
using Mekong.Api.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mekong.Agent.Execution;

/// <summary>The answer to a StartJob or StopJob (becomes a CommandAck).</summary>
public readonly record struct CommandResult(bool Accepted, string Message)
{
    public static CommandResult Ok(string message = "") => new(true, message);

    public static CommandResult Refused(string message) => new(false, message);
}

/// <summary>
/// The jobs of one node: starts and stops them, keeps every GPU with at most one job, re-adopts the
/// jobs a previous agent left running, and raises a <see cref="JobStateChange"/> for every step.
/// A finished job stays listed (and its state file kept) until <see cref="Forget"/> says its end was
/// sent, so nothing is lost across a disconnection or an agent restart.
/// </summary>
public sealed partial class JobRunner : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Lock _startGate = new();
    private readonly Dictionary<(string JobId, uint Attempt), JobInstance> _jobs = [];
    private readonly HashSet<uint> _gpuIndices;
    private readonly ILogger _logger;
    private bool _disposed;

    public JobRunner(AgentOptions options, NodeInventory inventory, CgroupDriver cgroups, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inventory);
        Options = options;
        Cgroups = cgroups;
        Time = time ?? TimeProvider.System;
        Layout = new JobLayout(options.StateDirectory);
        _gpuIndices = inventory.Gpus.Select(g => g.Index).ToHashSet();
        _logger = logger ?? NullLogger.Instance;
        if (!options.SimulateExecution && options.Sandbox == SandboxMode.Bwrap)
        {
            BwrapPath = NvidiaSmi.FindExecutable(options.Bwrap)
                ?? throw new InvalidOperationException($"--sandbox bwrap: {options.Bwrap} is not installed");
        }
    }

    /// <summary>Every job state change, in order per job.</summary>
    public event Action<JobStateChange>? StateChanged;

    public AgentOptions Options { get; }

    public CgroupDriver Cgroups { get; }

    public TimeProvider Time { get; }

    public JobLayout Layout { get; }

    internal string? BwrapPath { get; }

    /// <summary>1 or 2 when jobs get control groups; 0 when they run without limits.</summary>
    public int CgroupVersion => Options.SimulateExecution ? 0 : Cgroups.Version;

    /// <summary>
    /// Re-adopts the jobs of the state directory: a live process (same pid and start time) is watched
    /// again; a gone one is reported EXITED with an unknown status ("lost"); an end that was never sent
    /// is sent again. Call once, after subscribing to <see cref="StateChanged"/>.
    /// </summary>
    public void Recover()
    {
        if (Options.SimulateExecution)
        {
            return;
        }

        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Layout.RecordPaths())
        {
            if (JobRecord.Load(path) is not { } record)
            {
                continue;
            }

            if (record.CgroupName is { } group)
            {
                known.Add(CgroupDriver.Sanitise(group));
            }

            var job = ProcessJob.Adopt(this, record, path);
            lock (_gate)
            {
                _jobs[(record.JobId, record.Attempt)] = job;
            }

            if (record.Final is { } final)
            {
                Raise(job.RestoreFinal(final));
            }
            else if (job.IsProcessAlive() || job.Cgroup.Pids().Count > 0)
            {
                Log.Adopted(_logger, record.JobId, record.Attempt, record.Pid);
                job.Watch();
            }
            else
            {
                Log.Lost(_logger, record.JobId, record.Attempt, record.Pid);
                job.Watch();
            }
        }

        // A group no state file speaks for (the agent died between spawning a job and recording it)
        // holds untracked processes, maybe on GPUs: kill them.
        foreach (var orphan in Cgroups.Groups().Where(g => !known.Contains(g)))
        {
            Log.Orphan(_logger, orphan);
            Cgroups.Open(orphan)?.DestroyAsync().GetAwaiter().GetResult();
        }
    }

    /// <summary>Starts one rank of a job. Refuses unknown or busy GPUs and duplicate attempts.</summary>
    public CommandResult Start(StartJob command)
    {
        ArgumentNullException.ThrowIfNull(command);
        // One start at a time: the GPU check and the registration must not interleave.
        lock (_startGate)
        {
            return StartLocked(command);
        }
    }

    private CommandResult StartLocked(StartJob command)
    {
        var grace = command.GracePeriod?.ToTimeSpan() ?? Options.DefaultGracePeriod;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (string.IsNullOrEmpty(command.JobId))
            {
                return CommandResult.Refused("job_id is empty");
            }

            if (_jobs.ContainsKey((command.JobId, command.Attempt)))
            {
                return CommandResult.Ok("already started");
            }

            foreach (var other in _jobs.Values)
            {
                if (other.IsFinished)
                {
                    continue;
                }

                if (other.JobId == command.JobId)
                {
                    return CommandResult.Refused($"attempt {other.Attempt} of job {other.JobId} is still running");
                }

                var shared = other.Gpus.Where(command.GpuIndices.Contains).ToList();
                if (shared.Count > 0)
                {
                    return CommandResult.Refused($"GPU {string.Join(',', shared)} is held by job {other.JobId}");
                }
            }

            var unknown = command.GpuIndices.Where(i => !_gpuIndices.Contains(i)).ToList();
            if (unknown.Count > 0)
            {
                return CommandResult.Refused($"no GPU {string.Join(',', unknown)} on this node");
            }

            if (command.GpuIndices.Distinct().Count() != command.GpuIndices.Count)
            {
                return CommandResult.Refused("a GPU is listed twice");
            }

            // Reserve the attempt and its GPUs before starting outside the lock.
        }

        Raise(Change(command.JobId, command.Attempt, AgentJobState.Starting, ""));
        JobInstance job;
        try
        {
            job = Options.SimulateExecution ? new SimulatedJob(this, command, grace) : ProcessJob.Start(this, command, grace);
        }
        catch (Exception ex) when (ex is JobStartException or IOException or UnauthorizedAccessException)
        {
            Log.FailedToStart(_logger, command.JobId, command.Attempt, ex.Message);
            Raise(Change(command.JobId, command.Attempt, AgentJobState.FailedToStart, ex.Message));
            return CommandResult.Ok("failed to start: " + ex.Message);
        }

        lock (_gate)
        {
            _jobs[(command.JobId, command.Attempt)] = job;
        }

        var running = Change(command.JobId, command.Attempt, AgentJobState.Running, "");
        if (job is ProcessJob process)
        {
            running.Message = $"pid {process.Pid}";
            Log.Started(_logger, command.JobId, command.Attempt, process.Pid);
            Raise(running);
            process.Watch();
        }
        else
        {
            Raise(running);
            job.ArmWalltime();
        }

        return CommandResult.Ok();
    }

    /// <summary>Stops a job: SIGTERM, then SIGKILL after the grace (StopJob's, else the job's own).</summary>
    public CommandResult Stop(StopJob command)
    {
        ArgumentNullException.ThrowIfNull(command);
        JobInstance? job;
        lock (_gate)
        {
            job = _jobs.Values
                .Where(j => j.JobId == command.JobId && (command.Attempt == 0 || j.Attempt == command.Attempt))
                .OrderByDescending(j => j.Attempt)
                .FirstOrDefault();
        }

        if (job is null)
        {
            return CommandResult.Refused($"job {command.JobId} attempt {command.Attempt} is not on this node");
        }

        if (job.IsFinished)
        {
            return CommandResult.Ok("already ended");
        }

        var grace = command.GracePeriod?.ToTimeSpan() ?? job.Grace;
        Log.Stopping(_logger, job.JobId, job.Attempt, command.Reason, grace);
        job.RequestStop(StopKind.Stop, grace);
        return CommandResult.Ok();
    }

    /// <summary>Jobs whose process has not ended (for Inventory and heartbeats).</summary>
    public IReadOnlyList<RunningJob> Running()
    {
        lock (_gate)
        {
            return _jobs.Values.Where(j => !j.IsFinished).OrderBy(j => j.JobId, StringComparer.Ordinal).Select(j => j.ToRunningJob()).ToList();
        }
    }

    /// <summary>Every job the runner holds, finished ones not yet forgotten included.</summary>
    public IReadOnlyList<JobInstance> Jobs()
    {
        lock (_gate)
        {
            return _jobs.Values.ToList();
        }
    }

    /// <summary>The job attempt, or null.</summary>
    public JobInstance? Find(string jobId, uint attempt)
    {
        lock (_gate)
        {
            return _jobs.GetValueOrDefault((jobId, attempt));
        }
    }

    /// <summary>The job's end was sent: drop it and its state file.</summary>
    public void Forget(string jobId, uint attempt)
    {
        JobInstance? job;
        lock (_gate)
        {
            if (!_jobs.TryGetValue((jobId, attempt), out job) || !job.IsFinished)
            {
                return;
            }

            _jobs.Remove((jobId, attempt));
        }

        (job as ProcessJob)?.DeleteRecord();
    }

    /// <summary>
    /// Lets go of every job without touching its process, as an agent that stops or crashes does; a
    /// new runner on the same state directory re-adopts them.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var job in _jobs.Values)
            {
                job.Abandon();
            }
        }
    }

    internal JobStateChange Change(string jobId, uint attempt, AgentJobState state, string message) => new()
    {
        JobId = jobId,
        Attempt = attempt,
        State = state,
        Message = message,
        Time = Timestamp.FromDateTimeOffset(Time.GetUtcNow()),
    };

    internal void OnFinished(JobInstance job, JobStateChange change)
    {
        Log.Ended(_logger, job.JobId, job.Attempt, change.State, change.ExitCode, change.Signal, change.Message);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }

        Raise(change);
    }

    private void Raise(JobStateChange change) => StateChanged?.Invoke(change);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} started as pid {Pid}")]
        public static partial void Started(ILogger logger, string jobId, uint attempt, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} failed to start: {Reason}")]
        public static partial void FailedToStart(ILogger logger, string jobId, uint attempt, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Stopping job {JobId} attempt {Attempt} ({Reason}, grace {Grace})")]
        public static partial void Stopping(ILogger logger, string jobId, uint attempt, StopReason reason, TimeSpan grace);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} attempt {Attempt} ended: {State}, exit code {ExitCode}, signal {Signal} {Message}")]
        public static partial void Ended(ILogger logger, string jobId, uint attempt, AgentJobState state, int exitCode, int signal, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "Re-adopted job {JobId} attempt {Attempt} (pid {Pid})")]
        public static partial void Adopted(ILogger logger, string jobId, uint attempt, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Control group {Group} belongs to no known job: its processes are killed")]
        public static partial void Orphan(ILogger logger, string group);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} (pid {Pid}) is gone: reported lost")]
        public static partial void Lost(ILogger logger, string jobId, uint attempt, int pid);
    }
}
