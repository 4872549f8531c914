using System.ComponentModel;
using Mekong.Agent.ControlGroups;
using Mekong.Agent.Native;
using Mekong.Api.V1;

namespace Mekong.Agent.Execution;

/// <summary>Why a job's process could not be started (reported as FAILED_TO_START).</summary>
public sealed class JobStartException(string message) : Exception(message);

/// <summary>
/// A job attempt running as a real process: session leader of its own process group, member of its
/// own control group, output appended to per-attempt files. A watcher thread waits for it without
/// reaping (waitid WNOWAIT), so an agent that lets go of it leaves the exit status to the next owner;
/// a process that is not the agent's child (adopted after a restart) is polled through /proc.
/// When the main process ends, whatever it left behind in its group or cgroup is SIGKILLed.
/// </summary>
public sealed partial class ProcessJob : JobInstance
{
    // Joins the control groups named before "--", then runs the rest as argv: the job's own command is
    // never parsed by a shell. A fixed script: no job data is ever interpolated into it.
    internal const string Trampoline = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";

    private readonly JobRecord _record;
    private readonly string _recordPath;
    private readonly JobCgroup _cgroup;
    private readonly Lock _exitGate = new();
    private volatile bool _abandoned;
    private bool _exited;

    private ProcessJob(JobRunner runner, JobRecord record, string recordPath, JobCgroup cgroup)
        : base(runner, record.JobId, record.Attempt, record.Gpus, record.StartTime,
            record.WalltimeSeconds is { } w ? TimeSpan.FromSeconds(w) : null, TimeSpan.FromSeconds(record.GraceSeconds))
    {
        _record = record;
        _recordPath = recordPath;
        _cgroup = cgroup;
    }

    public int Pid => _record.Pid;

    public override string? StdoutPath => _record.StdoutPath;

    public override string? StderrPath => _record.StderrPath;

    /// <summary>The job's control group (the no-cgroup stand-in when limits are off).</summary>
    public JobCgroup Cgroup => _cgroup;

    /// <summary>Starts the process; throws <see cref="JobStartException"/> when it cannot.</summary>
    internal static ProcessJob Start(JobRunner runner, StartJob job, TimeSpan grace)
    {
        var options = runner.Options;
        var layout = runner.Layout;
        if (job.Command.Count == 0)
        {
            throw new JobStartException("empty command");
        }

        // Working directory: the job's own, or one per job under the state directory (kept across attempts).
        string workDir;
        var createdWorkDir = false;
        if (!string.IsNullOrEmpty(job.WorkingDir))
        {
            workDir = job.WorkingDir;
            if (!Directory.Exists(workDir))
            {
                throw new JobStartException($"working directory {workDir} does not exist");
            }
        }
        else
        {
            workDir = layout.WorkDirectory(job.JobId);
            createdWorkDir = !Directory.Exists(workDir);
            Directory.CreateDirectory(workDir);
        }

        var attemptDir = layout.AttemptDirectory(job.JobId, job.Attempt);
        Directory.CreateDirectory(attemptDir);
        var stdout = layout.StdoutPath(job.JobId, job.Attempt);
        var stderr = layout.StderrPath(job.JobId, job.Attempt);

        // The user: the submitting user's uid where the node maps users and knows this one.
        var account = options.RunAsUser && Libc.IsRoot ? UserAccounts.Find(job.User) : null;
        if (account is not null && account.Uid != 0)
        {
            if (createdWorkDir || string.IsNullOrEmpty(job.WorkingDir))
            {
                _ = Libc.chown(workDir, account.Uid, account.Gid);
            }

            // The output files belong to the user too (created here so the chown precedes the job).
            foreach (var log in new[] { stdout, stderr })
            {
                using (File.Open(log, FileMode.Append, FileAccess.Write))
                {
                }

                File.SetUnixFileMode(log, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                _ = Libc.chown(log, account.Uid, account.Gid);
            }
        }
        else
        {
            account = null;
        }

        var env = JobEnvironment.Build(job, options.NodeName, account?.Home is { Length: > 0 } h && Directory.Exists(h) ? h : workDir, account?.Name ?? (string.IsNullOrEmpty(job.User) ? null : job.User));

        // The command must resolve now: a missing program is FAILED_TO_START, not exit code 127.
        var program = job.Command[0];
        var resolved = program.Contains('/', StringComparison.Ordinal)
            ? Discovery.NvidiaSmi.FindExecutable(Path.IsPathRooted(program) ? program : Path.Combine(workDir, program))
            : Discovery.NvidiaSmi.FindExecutable(program, env["PATH"]);
        if (resolved is null)
        {
            throw new JobStartException($"command not found or not executable: {program}");
        }

        var cgroupName = $"{job.JobId}.{job.Attempt}";
        JobCgroup cgroup;
        try
        {
            cgroup = runner.Cgroups.Create(cgroupName, new CgroupLimits(job.MemoryBytes, job.CpuCores));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new JobStartException("cannot create the job's control group: " + ex.Message);
        }

        var argv = new List<string> { "/bin/sh", "-c", Trampoline, "mekong-job" };
        argv.AddRange(cgroup.ProcsFiles);
        argv.Add("--");
        if (options.Sandbox == SandboxMode.Bwrap)
        {
            argv.AddRange(BwrapArguments(runner.BwrapPath!, workDir));
        }

        if (account is not null)
        {
            argv.AddRange(["setpriv", $"--reuid={account.Uid}", $"--regid={account.Gid}", "--init-groups", "--"]);
        }

        argv.Add(resolved);
        argv.AddRange(job.Command.Skip(1));

        var oomBaseline = cgroup.OomKills();
        int pid;
        try
        {
            pid = Spawner.Spawn("/bin/sh", argv, env, workDir, stdout, stderr);
        }
        catch (Win32Exception ex)
        {
            _ = cgroup.DestroyAsync();
            throw new JobStartException(ex.Message);
        }

        var stat = ProcInfo.Read(pid);
        var record = new JobRecord
        {
            JobId = job.JobId,
            Attempt = job.Attempt,
            Pid = pid,
            StartTicks = stat?.StartTicks ?? 0,
            StartTime = runner.Time.GetUtcNow(),
            Gpus = [.. job.GpuIndices],
            WalltimeSeconds = job.Walltime is { } w ? w.ToTimeSpan().TotalSeconds : null,
            GraceSeconds = grace.TotalSeconds,
            CgroupName = cgroup.IsReal ? cgroupName : null,
            OomBaseline = oomBaseline,
            StdoutPath = stdout,
            StderrPath = stderr,
        };
        var recordPath = layout.RecordPath(job.JobId, job.Attempt);
        try
        {
            record.Save(recordPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Without its state file a restarted agent could not find it: never leave it running.
            Libc.kill(-pid, Libc.SIGKILL);
            cgroup.DestroyAsync().GetAwaiter().GetResult();
            _ = Libc.waitpid(pid, out _, 0);
            throw new JobStartException("cannot write the job's state file: " + ex.Message);
        }

        return new ProcessJob(runner, record, recordPath, cgroup);
    }

    /// <summary>
    /// Takes over a job a previous agent started. Null when the record is stale (process and group gone):
    /// the caller reports it lost.
    /// </summary>
    internal static ProcessJob Adopt(JobRunner runner, JobRecord record, string recordPath)
    {
        var cgroup = record.CgroupName is { } name ? runner.Cgroups.Open(name) ?? NoJobCgroup.Instance : NoJobCgroup.Instance;
        var job = new ProcessJob(runner, record, recordPath, cgroup);
        if (record.Stopping is { } kind)
        {
            job.ResumeStop(kind, record.KillAt ?? runner.Time.GetUtcNow());
        }

        return job;
    }

    internal JobStateChange RestoreFinal(FinalState final)
    {
        var change = Runner.Change(JobId, Attempt, final.State, final.Message);
        change.ExitCode = final.ExitCode;
        change.Signal = final.Signal;
        change.Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(final.Time);
        return RestoreFinal(change);
    }

    /// <summary>Whether the job's main process is alive and is the one started (pid and start time).</summary>
    internal bool IsProcessAlive() => ProcInfo.IsAlive(_record.Pid, _record.StartTicks);

    /// <summary>Starts the watcher thread (and the walltime).</summary>
    internal void Watch()
    {
        ArmWalltime();
        var thread = new Thread(WatchLoop) { IsBackground = true, Name = $"job {JobId}.{Attempt}" };
        thread.Start();
    }

    private void WatchLoop()
    {
        int? status = null;
        if (Libc.WaitForExitNoReap(_record.Pid))
        {
            if (_abandoned)
            {
                return;
            }

            status = Libc.TryReap(_record.Pid).Status;
        }
        else
        {
            // Not our child (adopted after a restart): poll until it is gone, reaping it if it became ours.
            while (!_abandoned)
            {
                var (isChild, s) = Libc.TryReap(_record.Pid);
                if (isChild && s is not null)
                {
                    status = s;
                    break;
                }

                if (!isChild && !IsProcessAlive())
                {
                    break;
                }

                Thread.Sleep(100);
            }

            if (_abandoned)
            {
                return;
            }
        }

        OnExited(status);
    }

    private void OnExited(int? status)
    {
        lock (_exitGate)
        {
            _exited = true;
        }

        var oom = _cgroup.OomKills() > _record.OomBaseline;
        // Nothing outlives the job: its group and control group are emptied (children that called
        // setsid are still in the cgroup).
        Libc.kill(-_record.Pid, Libc.SIGKILL);
        _cgroup.DestroyAsync().GetAwaiter().GetResult();

        int exitCode, signal;
        var message = "";
        if (status is { } s)
        {
            (exitCode, signal) = DecodeWaitStatus(s);
        }
        else
        {
            (exitCode, signal) = (-1, 0);
            message = "lost: the process ended while the agent was not its parent; exit status unknown";
        }

        if (oom)
        {
            message = "out of memory";
        }

        Complete(exitCode, signal, message);
    }

    protected override void OnCompleted(JobStateChange change)
    {
        _record.Final = new FinalState
        {
            State = change.State,
            ExitCode = change.ExitCode,
            Signal = change.Signal,
            Message = change.Message,
            Time = change.Time.ToDateTimeOffset(),
        };
        SaveRecord();
    }

    /// <summary>(exit code, signal) from a wait status: 128+N and N for death by signal N.</summary>
    public static (int ExitCode, int Signal) DecodeWaitStatus(int status)
    {
        var termSig = status & 0x7f;
        return termSig == 0 ? ((status >> 8) & 0xff, 0) : (128 + termSig, termSig);
    }

    protected override void Signal(int signal)
    {
        lock (_exitGate)
        {
            if (_exited)
            {
                return;
            }

            // The group id is the leader's pid; it cannot be reused while the leader (even a zombie) exists.
            if (ProcInfo.Read(_record.Pid) is { } s && s.StartTicks == _record.StartTicks)
            {
                Libc.kill(-_record.Pid, signal);
            }

            _cgroup.Signal(signal);
        }
    }

    protected override void OnStopping(StopKind kind, DateTimeOffset killAt)
    {
        _record.Stopping = kind;
        _record.KillAt = killAt;
        SaveRecord();
    }

    internal override void Abandon()
    {
        _abandoned = true;
        base.Abandon();
    }

    /// <summary>The final state was sent: the state file goes (logs and working directory stay).</summary>
    internal void DeleteRecord()
    {
        try
        {
            File.Delete(_recordPath);
        }
        catch (IOException)
        {
        }
    }

    private void SaveRecord()
    {
        try
        {
            _record.Save(_recordPath);
        }
        catch (IOException)
        {
            // The state file is for restarts; a full disk must not stop reporting.
        }
    }

    private static IEnumerable<string> BwrapArguments(string bwrap, string workDir) =>
    [
        bwrap,
        "--ro-bind", "/", "/",
        // Device nodes as they are (GPUs included): the GPU restriction is CUDA_VISIBLE_DEVICES's job here.
        "--dev-bind", "/dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--bind", workDir, workDir,
        "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--chdir", workDir,
        "--",
    ];
}
