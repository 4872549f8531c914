using Mekong.Policy;

namespace Mekong.Store.Writing;

/// <summary>Shape checks made on the caller's thread before a mutation is queued, so that nothing invalid
/// reaches a batch. The API layer names fields for its users; these are the store's own guarantees.</summary>
internal static class Validation
{
    private const int MaxName = 256;
    private const int MaxCommandChars = 64 * 1024;

    public static void Submission(JobSpec spec, JobCommand command)
    {
        Text(spec.Project, "project");
        Text(spec.User, "user");
        if (spec.Name is null || spec.Name.Length > MaxName) throw new StoreException($"job name must be at most {MaxName} characters");
        if (spec.Nodes < 1) throw new StoreException("nodes must be at least 1");
        if (spec.GpusPerNode is < 1 or > NodeSpec.MaxGpusPerNode) throw new StoreException($"GPUs per node must be 1..{NodeSpec.MaxGpusPerNode}");
        if (spec.GpuType is { } type) Text(type, "GPU type");
        if (spec.Walltime <= TimeSpan.Zero) throw new StoreException("walltime must be positive");
        if (spec.CpuPerNode < 0) throw new StoreException("CPU per node must not be negative");
        if (spec.MemoryMbPerNode < 0) throw new StoreException("memory per node must not be negative");
        if (spec.GracePeriod < TimeSpan.Zero) throw new StoreException("grace period must not be negative");
        if (spec.PreemptionCount < 0) throw new StoreException("preemption count must not be negative");
        if (!Enum.IsDefined(spec.Priority)) throw new StoreException("unknown priority");
        if (command.Argv is null || command.Env is null) throw new StoreException("command and environment are required (may be empty)");
        var size = command.Argv.Sum(a => a?.Length ?? 0) + command.Env.Sum(kv => kv.Key.Length + (kv.Value?.Length ?? 0))
            + (command.WorkingDirectory?.Length ?? 0) + (command.Image?.Length ?? 0);
        if (size > MaxCommandChars) throw new StoreException($"command, environment and working directory must total at most {MaxCommandChars} characters");
        if (command.Argv.Any(a => a is null)) throw new StoreException("command arguments must not be null");
        if (command.Env.Any(kv => string.IsNullOrEmpty(kv.Key) || kv.Value is null)) throw new StoreException("environment variables need a name and a value");
    }

    public static void Account(AccountSpec a)
    {
        Text(a.Path, "account path");
        if (a.Path.StartsWith('/') || a.Path.EndsWith('/') || a.Path.Contains("//", StringComparison.Ordinal))
            throw new StoreException($"account path '{a.Path}' is not a slash-separated name like org/project");
        if (a.Shares < 1) throw new StoreException($"account {a.Path}: shares must be at least 1");
        if (a.Guarantee.Any(kv => kv.Value < 0) || a.Limit.Any(kv => kv.Value < 0))
            throw new StoreException($"account {a.Path}: guarantees and limits must not be negative");
        if (a.Budget is { GpuHours: < 0 }) throw new StoreException($"account {a.Path}: budget must not be negative");
        if (a.Budget is { } b && (!Enum.IsDefined(b.Period) || !Enum.IsDefined(b.OnExhausted)))
            throw new StoreException($"account {a.Path}: unknown budget period or action");
        if ((a.Kind is { } k && !Enum.IsDefined(k)) || (a.OrganisationClass is { } c && !Enum.IsDefined(c)))
            throw new StoreException($"account {a.Path}: unknown kind or organisation class");
        if (a.DisplayName is { } name) Text(name, $"account {a.Path}: display name");
    }

    public static void Member(Member m)
    {
        Text(m.Account, "account");
        Text(m.User, "user");
        if (!Store.Member.Roles.Contains(m.Role)) throw new StoreException($"role must be one of {string.Join(", ", Store.Member.Roles)}");
    }

    public static void Node(NodeSpec n)
    {
        Text(n.Name, "node name");
        Text(n.GpuType, "GPU type");
        if (n.Gpus is < 1 or > NodeSpec.MaxGpusPerNode) throw new StoreException($"node {n.Name}: GPU count must be 1..{NodeSpec.MaxGpusPerNode}");
        if (n.CpuCores < 0 || n.MemoryMb < 0) throw new StoreException($"node {n.Name}: CPU and memory must not be negative");
        if (n.Block is null) throw new StoreException($"node {n.Name}: block must not be null (use \"\")");
    }

    private static void Text(string? value, string what)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new StoreException($"{what} is required");
        if (value.Length > MaxName) throw new StoreException($"{what} must be at most {MaxName} characters");
    }
}
