using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mekong.Agent.Execution;

/// <summary>
/// The small state file kept per job attempt (ATTEMPT_DIR/job.json) while its process runs and until
/// its final state has been sent: what a restarted agent needs to re-adopt the process (pid plus start
/// time, which tells a live job from a reused pid), re-arm its walltime and report it.
/// </summary>
internal sealed class JobRecord
{
    public string JobId { get; set; } = "";

    public uint Attempt { get; set; }

    public int Pid { get; set; }

    /// <summary>/proc/PID/stat starttime, in clock ticks since boot.</summary>
    public long StartTicks { get; set; }

    public DateTimeOffset StartTime { get; set; }

    public List<uint> Gpus { get; set; } = [];

    public double? WalltimeSeconds { get; set; }

    public double GraceSeconds { get; set; }

    public string? CgroupName { get; set; }

    public long OomBaseline { get; set; }

    public string StdoutPath { get; set; } = "";

    public string StderrPath { get; set; } = "";

    /// <summary>Set once a stop or the walltime began (so a restarted agent still finishes it).</summary>
    public StopKind? Stopping { get; set; }

    public DateTimeOffset? KillAt { get; set; }

    /// <summary>Set when the process ended; the record is deleted once this was sent.</summary>
    public FinalState? Final { get; set; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static JobRecord? Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<JobRecord>(File.ReadAllText(path), Json);
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes atomically (temp file, then rename), so a crash never leaves half a record.</summary>
    public void Save(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>How a job's process ended, as reported.</summary>
internal sealed class FinalState
{
    public Api.V1.AgentJobState State { get; set; }

    public int ExitCode { get; set; }

    public int Signal { get; set; }

    public string Message { get; set; } = "";

    public DateTimeOffset Time { get; set; }
}

/// <summary>Why the agent is ending a job.</summary>
public enum StopKind
{
    /// <summary>A StopJob (cancel, preemption, reconciliation): ends STOPPED.</summary>
    Stop,

    /// <summary>The walltime passed: ends TIMED_OUT.</summary>
    Walltime,
}
