using Mekong.Policy;
using Mekong.Scheduler.Core;
using Mekong.Store;
using Mekong.Transport;
using V1 = Mekong.Api.V1;

namespace Mekong.Scheduler.Services;

/// <summary>Checks a submission field by field and turns it into the core's spec and the agent's command.
/// Every refusal names the field (<c>spec.gpus_per_node</c>) and says what would be accepted.</summary>
internal static class SubmitValidator
{
    private const int MaxText = 256;
    private const int MaxArgs = 4096;
    private const int MaxEnv = 1024;
    private const int MaxLabels = 64;

    public static (JobSpec Spec, JobCommand Command) Validate(V1.SubmitJobRequest request, string user, Catalog catalog, SchedulerOptions options, DateTimeOffset now)
    {
        var s = request.Spec ?? throw Invalid("spec", "is required");
        if (string.IsNullOrWhiteSpace(s.Project)) throw Invalid("spec.project", "is required (an account path such as uni-a/vision)");
        if (!catalog.Accounts.TryGetValue(s.Project, out var isProject))
            throw new RpcException(StatusCode.NotFound, $"spec.project: project '{s.Project}' does not exist");
        if (!isProject) throw Invalid("spec.project", $"'{s.Project}' is an organisation; submit to one of its projects");
        if (s.Name.Length > MaxText) throw Invalid("spec.name", $"must be at most {MaxText} characters");
        var nodes = s.Nodes == 0 ? 1 : s.Nodes;
        if (nodes > 4096) throw Invalid("spec.nodes", "must be at most 4096");
        if (s.GpusPerNode < 1) throw Invalid("spec.gpus_per_node", "must be at least 1");
        if (s.GpusPerNode > NodeSpec.MaxGpusPerNode) throw Invalid("spec.gpus_per_node", $"must be at most {NodeSpec.MaxGpusPerNode}");
        var type = string.IsNullOrEmpty(s.GpuType) ? null : s.GpuType;
        if (type is not null && !catalog.KnowsType(type))
            throw Invalid("spec.gpu_type", $"unknown GPU type '{type}' (known: {string.Join(", ", catalog.Types.DefaultIfEmpty("none yet"))})");
        CheckFits(catalog, type, (int)nodes, (int)s.GpusPerNode);
        if (s.Walltime is null && options.DefaultWalltime is null) throw Invalid("spec.walltime", "is required");
        var walltime = s.Walltime is null ? options.DefaultWalltime!.Value : Duration(s.Walltime, "spec.walltime");
        if (walltime <= TimeSpan.Zero) throw Invalid("spec.walltime", "must be positive");
        if (walltime > options.MaxWalltime) throw Invalid("spec.walltime", $"must be at most {options.MaxWalltime.TotalHours:0.##} h");
        var grace = s.GracePeriod is null ? TimeSpan.FromSeconds(30) : Duration(s.GracePeriod, "spec.grace_period");
        if (grace < TimeSpan.Zero || grace > TimeSpan.FromHours(1)) throw Invalid("spec.grace_period", "must be between 0 and 1 h");
        if (!Enum.IsDefined(s.Priority)) throw Invalid("spec.priority", "must be LOW, NORMAL or HIGH");
        if (s.Command.Count == 0) throw Invalid("spec.command", "is required (the program and its arguments)");
        if (s.Command.Count > MaxArgs) throw Invalid("spec.command", $"must have at most {MaxArgs} arguments");
        if (string.IsNullOrEmpty(s.Command[0])) throw Invalid("spec.command", "the program (first element) must not be empty");
        if (s.Env.Count > MaxEnv) throw Invalid("spec.env", $"must have at most {MaxEnv} variables");
        foreach (var key in s.Env.Keys)
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
                throw Invalid("spec.env", $"'{key}' is not a valid variable name");
        if (s.Labels.Count > MaxLabels) throw Invalid("spec.labels", $"must have at most {MaxLabels} labels");
        if (s.WorkingDir.Length > 4096) throw Invalid("spec.working_dir", "must be at most 4096 characters");
        if (s.ContainerImage.Length > MaxText) throw Invalid("spec.container_image", $"must be at most {MaxText} characters");
        if (request.RequestId.Length > MaxText) throw Invalid("request_id", $"must be at most {MaxText} characters");

        var spec = new JobSpec(default, s.Project, user, s.Name, (int)nodes, (int)s.GpusPerNode, type, walltime, now)
        {
            CpuPerNode = (int)Math.Min(s.CpusPerNode, 4096),
            MemoryMbPerNode = (long)(s.MemoryBytesPerNode / (1024 * 1024)),
            Priority = s.Priority switch
            {
                V1.Priority.Low => JobPriority.Low,
                V1.Priority.High => JobPriority.High,
                _ => JobPriority.Normal,
            },
            Preemptible = s.Preemptible,
            GracePeriod = grace,
        };
        var command = new JobCommand(s.Command.ToArray(), new Dictionary<string, string>(s.Env, StringComparer.Ordinal),
            string.IsNullOrEmpty(s.WorkingDir) ? null : s.WorkingDir, string.IsNullOrEmpty(s.ContainerImage) ? null : s.ContainerImage);
        return (spec, command);
    }

    /// <summary>Refuses a shape no registered node or gang could ever hold. With no node registered yet (a fresh
    /// install, agents still connecting) any shape is accepted and waits.</summary>
    private static void CheckFits(Catalog catalog, string? type, int nodes, int gpusPerNode)
    {
        if (catalog.TotalNodes == 0) return;
        var candidates = type is null
            ? catalog.NodesOfType.Keys.ToArray()
            : catalog.NodesOfType.ContainsKey(type) ? [type] : [];
        if (candidates.Length == 0) return; // a type known from quotas whose nodes have not registered yet
        var maxGpus = candidates.Max(t => catalog.MaxGpusOfType[t]);
        if (gpusPerNode > maxGpus)
            throw Invalid("spec.gpus_per_node", $"{gpusPerNode} GPUs on one node, but the largest {type ?? "GPU"} node has {maxGpus}");
        var maxNodes = candidates.Max(t => catalog.NodesOfType[t]);
        if (nodes > maxNodes)
            throw Invalid("spec.nodes", $"a gang of {nodes} nodes is larger than the cluster's {maxNodes} {type ?? "GPU"} nodes");
    }

    /// <summary>A non-negative duration of at most ten years, or INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static TimeSpan Duration(Google.Protobuf.WellKnownTypes.Duration d, string field)
    {
        if (d.Seconds < 0 || d.Nanos is < 0 or > 999_999_999 || d.Seconds > 10L * 365 * 24 * 3600) throw Invalid(field, "is out of range");
        return d.ToTimeSpan();
    }

    public static RpcException Invalid(string field, string what) => new(StatusCode.InvalidArgument, $"{field}: {what}");
}
