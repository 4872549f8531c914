using Mekong.Agent.ControlGroups;

namespace Mekong.Agent;

/// <summary>How a job's process is confined beyond its control group.</summary>
public enum SandboxMode
{
    /// <summary>Runs the command directly.</summary>
    None,

    /// <summary>bubblewrap: read-only root, private /tmp, new pid and ipc namespaces, the working directory writable.</summary>
    Bwrap,
}

/// <summary>
/// Everything one node agent needs. One instance per node, so that one process can host many
/// (simulated) agents: the lifecycle benchmark runs hundreds in-process.
/// </summary>
public sealed class AgentOptions
{
    /// <summary>The scheduler ("http://127.0.0.1:7070"; cleartext HTTP/2).</summary>
    public Uri Server { get; set; } = new("http://127.0.0.1:7070");

    /// <summary>The agent credential, sent as "authorization: Bearer ...".</summary>
    public string? Token { get; set; }

    /// <summary>Node name, unique in the cluster.</summary>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>Where logs, default working directories and per-job state files live.</summary>
    public string StateDirectory { get; set; } = "/var/lib/mekong-agent";

    /// <summary>Advertise this many simulated GPUs instead of asking nvidia-smi.</summary>
    public int? SimulateGpus { get; set; }

    /// <summary>GPU type of the node's GPUs ("h100"); derived from the model name when unset.</summary>
    public string? GpuType { get; set; }

    /// <summary>Topology block (switch or rack label).</summary>
    public string TopologyBlock { get; set; } = "";

    /// <summary>CPU cores offered to jobs; all of the machine's when unset.</summary>
    public uint? CpuCores { get; set; }

    /// <summary>Memory offered to jobs in bytes; all of the machine's when unset.</summary>
    public ulong? MemoryBytes { get; set; }

    /// <summary>Jobs spawn no process: they "run" for env MEKONG_SIM_DURATION_S seconds or until stopped.</summary>
    public bool SimulateExecution { get; set; }

    /// <summary>Control group interface for job limits.</summary>
    public CgroupMode Cgroups { get; set; } = CgroupMode.Auto;

    /// <summary>Parent of the agent's groups in each hierarchy; groups are PARENT/NODE/JOB.ATTEMPT.</summary>
    public string CgroupParent { get; set; } = "mekong";

    /// <summary>Sandbox of job processes.</summary>
    public SandboxMode Sandbox { get; set; } = SandboxMode.None;

    /// <summary>
    /// The node maps the centre's users: run each job under StartJob.user's uid and gid. A user the node
    /// does not know runs as the agent's own user (documented in README).
    /// </summary>
    public bool RunAsUser { get; set; }

    /// <summary>First reconnect delay; doubles per failed attempt, with jitter.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Cap of the reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for Welcome after Hello before giving up on a session.</summary>
    public TimeSpan WelcomeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeat interval until Welcome says otherwise.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Usage interval until Welcome says otherwise.</summary>
    public TimeSpan UsageInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often job output files are read for forwarding.</summary>
    public TimeSpan LogPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Grace period when a StartJob or StopJob gives none.</summary>
    public TimeSpan DefaultGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The nvidia-smi executable (a name looked up on PATH, or a path).</summary>
    public string NvidiaSmi { get; set; } = "nvidia-smi";

    /// <summary>The bwrap executable.</summary>
    public string Bwrap { get; set; } = "bwrap";
}
