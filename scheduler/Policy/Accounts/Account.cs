namespace Mekong.Policy.Accounts;

/// <summary>One node of the account tree with its live counters. Arrays are indexed by GPU type.</summary>
internal sealed class Account
{
    public const int NoLimit = int.MaxValue;

    public Account(int index, string path, int parent, int depth)
    {
        Index = index;
        Path = path;
        Name = path[(path.LastIndexOf('/') + 1)..];
        Parent = parent;
        Depth = depth;
        Array.Fill(Limit, NoLimit);
    }

    public int Index { get; }
    public string Path { get; }
    public string Name { get; }
    public int Parent { get; }
    public int Depth { get; }
    public List<int> Children { get; } = [];
    public bool IsLeaf => Children.Count == 0;

    public int Shares { get; set; } = 1;
    public int[] Guarantee { get; } = new int[GpuTypeTable.MaxTypes];
    public int[] Limit { get; } = new int[GpuTypeTable.MaxTypes];
    public Budget? Budget { get; set; }
    public bool PriorityPreemption { get; set; }

    /// <summary>GPUs held by running (and terminating) jobs of the subtree.</summary>
    public int[] Used { get; } = new int[GpuTypeTable.MaxTypes];

    /// <summary>GPUs held inside the guarantee: by running jobs that are not borrowing.</summary>
    public int[] Within { get; } = new int[GpuTypeTable.MaxTypes];

    /// <summary>Decayed, type-weighted GPU-seconds of the subtree, as of <see cref="UsageTicks"/>.</summary>
    public double DecayedUsage { get; set; }

    /// <summary>Type-weighted GPUs the subtree is running now: the rate at which usage grows.</summary>
    public double WeightedRate { get; set; }

    /// <summary>Plain GPUs the subtree is running now: the rate at which the budget burns.</summary>
    public long GpuRate { get; set; }

    public long UsageTicks { get; set; }

    /// <summary>GPU-seconds counted against the budget in the current period.</summary>
    public double BudgetUsedSeconds { get; set; }

    public long BudgetPeriodStartTicks { get; set; }

    /// <summary>Accounts from this one up to (not including) the root: the path admission checks walk.</summary>
    public int[] PathUp { get; set; } = [];

    /// <summary>The queue of pending jobs; only projects (leaves) have jobs.</summary>
    public Jobs.ProjectQueue Queue { get; } = new();

    /// <summary>Running and stopping jobs of this project (leaves only), for promotion back into the guarantee.</summary>
    public List<Jobs.Job> Running { get; } = [];

    /// <summary>The spec this account was last set from.</summary>
    public AccountSpec? Spec { get; set; }

    public bool BudgetExhausted => Budget is { } b && BudgetUsedSeconds >= b.GpuHours * 3600.0;
}
