namespace Mekong.Policy.Tests.Harness;

/// <summary>A readable description of a job for tests: <c>Job("train").Gang(4, gpus: 8, "h100").In("uni-a/vision")</c>.
/// The harness gives it an id and (unless set) the current time as submit time.</summary>
public sealed class JobBuilder(string name)
{
    public string Name { get; } = name;
    public string? Project { get; private set; }
    public string User { get; private set; } = "alice";
    public int NodeCount { get; private set; } = 1;
    public int GpusPerNode { get; private set; } = 1;
    public string? GpuType { get; private set; } = "h100";
    public TimeSpan WalltimeLimit { get; private set; } = TimeSpan.FromHours(1);
    public DateTimeOffset? SubmitTime { get; private set; }
    public JobPriority JobPriority { get; private set; } = JobPriority.Normal;
    public bool Preemptible { get; private set; } = true;
    public TimeSpan GracePeriod { get; private set; } = TimeSpan.FromSeconds(30);
    public bool Requeue { get; private set; } = true;
    public int PreemptionCount { get; private set; }
    public int CpuPerNode { get; private set; }
    public long MemoryMbPerNode { get; private set; }

    /// <summary>A multi-node gang: <paramref name="nodes"/> × <paramref name="gpus"/> GPUs of <paramref name="type"/>.</summary>
    public JobBuilder Gang(int nodes, int gpus, string? type = "h100")
    {
        NodeCount = nodes;
        GpusPerNode = gpus;
        GpuType = type;
        return this;
    }

    /// <summary>A single-node job of <paramref name="gpus"/> GPUs of <paramref name="type"/>.</summary>
    public JobBuilder Gpus(int gpus, string? type = "h100") => Gang(1, gpus, type);

    /// <summary>Any GPU type will do.</summary>
    public JobBuilder AnyType()
    {
        GpuType = null;
        return this;
    }

    public JobBuilder In(string project)
    {
        Project = project;
        return this;
    }

    public JobBuilder By(string user)
    {
        User = user;
        return this;
    }

    public JobBuilder Walltime(double hours = 0, double minutes = 0)
    {
        WalltimeLimit = TimeSpan.FromHours(hours) + TimeSpan.FromMinutes(minutes);
        return this;
    }

    public JobBuilder Walltime(TimeSpan walltime)
    {
        WalltimeLimit = walltime;
        return this;
    }

    public JobBuilder Priority(JobPriority priority)
    {
        JobPriority = priority;
        return this;
    }

    public JobBuilder High() => Priority(JobPriority.High);

    public JobBuilder Low() => Priority(JobPriority.Low);

    public JobBuilder NotPreemptible()
    {
        Preemptible = false;
        return this;
    }

    public JobBuilder Grace(TimeSpan grace)
    {
        GracePeriod = grace;
        return this;
    }

    /// <summary>Lost with its node, the job is gone rather than requeued.</summary>
    public JobBuilder NoRequeue()
    {
        Requeue = false;
        return this;
    }

    /// <summary>The job was already preempted this many times (as restored after a restart).</summary>
    public JobBuilder PreemptedBefore(int times)
    {
        PreemptionCount = times;
        return this;
    }

    public JobBuilder Cpu(int cores)
    {
        CpuPerNode = cores;
        return this;
    }

    public JobBuilder MemoryMb(long mb)
    {
        MemoryMbPerNode = mb;
        return this;
    }

    public JobBuilder SubmittedAt(DateTimeOffset time)
    {
        SubmitTime = time;
        return this;
    }

    public JobSpec Build(JobId id, string defaultProject, DateTimeOffset now) =>
        new(id, Project ?? defaultProject, User, Name, NodeCount, GpusPerNode, GpuType, WalltimeLimit, SubmitTime ?? now)
        {
            Priority = JobPriority,
            Preemptible = Preemptible,
            GracePeriod = GracePeriod,
            Requeue = Requeue,
            PreemptionCount = PreemptionCount,
            CpuPerNode = CpuPerNode,
            MemoryMbPerNode = MemoryMbPerNode,
        };
}

/// <summary>Entry points for the builders: <c>using static Mekong.Policy.Tests.Harness.Builders;</c>.</summary>
public static class Builders
{
    public static JobBuilder Job(string name) => new(name);

    /// <summary>A per-type GPU map, for example <c>Gpus(("h100", 16), ("a100", 8))</c>.</summary>
    public static IReadOnlyDictionary<string, int> GpuMap(params (string Type, int Gpus)[] entries)
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (type, gpus) in entries) map[type] = gpus;
        return map;
    }
}
