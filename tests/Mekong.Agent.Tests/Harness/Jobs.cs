using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests.Harness;

/// <summary>Readable StartJob commands: <c>Jobs.Bash("j1", "echo hi").Gpus(0, 1).Walltime(1)</c>.</summary>
internal static class Jobs
{
    public static StartJob Bash(string id, string script, uint attempt = 1)
    {
        var job = new StartJob { JobId = id, Attempt = attempt, GracePeriod = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)) };
        job.Command.AddRange(["bash", "-c", script]);
        return job;
    }

    public static StartJob Sim(string id, double? seconds = null, uint attempt = 1)
    {
        var job = new StartJob { JobId = id, Attempt = attempt };
        if (seconds is { } s)
        {
            job.Env["MEKONG_SIM_DURATION_S"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return job;
    }

    public static StartJob Gpus(this StartJob job, params uint[] indices)
    {
        job.GpuIndices.AddRange(indices);
        return job;
    }

    public static StartJob Walltime(this StartJob job, double seconds, double grace = 0.5)
    {
        job.Walltime = Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds));
        job.GracePeriod = Duration.FromTimeSpan(TimeSpan.FromSeconds(grace));
        return job;
    }

    public static StartJob Memory(this StartJob job, ulong mib)
    {
        job.MemoryBytes = mib << 20;
        return job;
    }

    public static StartJob Gang(this StartJob job, uint rank, uint size, string master, uint port, params string[] nodes)
    {
        job.Gang = new GangRank { Rank = rank, Size = size, MasterAddr = master, MasterPort = port };
        job.Gang.NodeNames.AddRange(nodes);
        return job;
    }

    public static StopJob Stop(string id, double graceSeconds, uint attempt = 1, StopReason reason = StopReason.Preempted) => new()
    {
        JobId = id,
        Attempt = attempt,
        Reason = reason,
        GracePeriod = Duration.FromTimeSpan(TimeSpan.FromSeconds(graceSeconds)),
    };
}
