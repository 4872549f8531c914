namespace Mekong.Policy;

/// <summary>One account of the tree: an organisation, a project, or a deeper grouping.</summary>
/// <param name="Path">Slash-separated path from the root, for example <c>uni-a/vision</c>. The parent must exist.</param>
/// <remarks>Jobs are submitted to leaf accounts (projects). A child's guarantees may not add up to more than its parent's.</remarks>
public sealed record AccountSpec(string Path)
{
    /// <summary>Weight among siblings for fair share.</summary>
    public int Shares { get; init; } = 1;

    /// <summary>GPUs per type reserved for this account when it has demand (nominal quota).</summary>
    public IReadOnlyDictionary<string, int> Guarantee { get; init; } = new Dictionary<string, int>();

    /// <summary>Most GPUs per type the account may hold at once, borrowing included. Absent type: no limit.</summary>
    public IReadOnlyDictionary<string, int> Limit { get; init; } = new Dictionary<string, int>();

    /// <summary>Optional GPU-hour budget per funding period.</summary>
    public Budget? Budget { get; init; }

    /// <summary>Whether a <c>high</c> job of this project may preempt the project's own <c>low</c> jobs.</summary>
    public bool PriorityPreemption { get; init; }

    /// <summary>Organisation or project as the centre set it; null means inferred from depth (1 = organisation,
    /// deeper = project). Descriptive: the policy does not read it.</summary>
    public AccountKind? Kind { get; init; }

    /// <summary>A name for people; null means <see cref="Name"/>. Descriptive: the policy does not read it.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Class for the rate card; null means inherited from the parent (the centre's default at the top).
    /// Descriptive: the policy does not read it.</summary>
    public OrganisationClass? OrganisationClass { get; init; }

    /// <summary>The last path segment.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>The parent's path; empty for an organisation directly under the root.</summary>
    public string ParentPath => Path.Contains('/', StringComparison.Ordinal) ? Path[..Path.LastIndexOf('/')] : "";

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path) || Path.StartsWith('/') || Path.EndsWith('/') || Path.Contains("//", StringComparison.Ordinal))
            throw new PolicyException($"account path '{Path}' is not a slash-separated name like org/project");
        if (Shares < 1) throw new PolicyException($"account {Path}: shares must be at least 1");
        foreach (var (type, n) in Guarantee)
            if (n < 0) throw new PolicyException($"account {Path}: guarantee for {type} must not be negative");
        foreach (var (type, n) in Limit)
            if (n < 0) throw new PolicyException($"account {Path}: limit for {type} must not be negative");
        if (Budget is { GpuHours: < 0 }) throw new PolicyException($"account {Path}: budget must not be negative");
    }
}
