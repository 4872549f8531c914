namespace Mekong.Policy.Accounts;

/// <summary>The account tree: root → organisations → projects (deeper nesting allowed), with the counters
/// admission and fair share read. Index 0 is the root.</summary>
internal sealed class AccountTree
{
    private readonly List<Account> _accounts = [];
    private readonly Dictionary<string, int> _byPath = new(StringComparer.Ordinal);
    private readonly GpuTypeTable _types;
    private readonly double _decayPerTick;

    public AccountTree(GpuTypeTable types, TimeSpan halfLife)
    {
        _types = types;
        _decayPerTick = Math.Log(2) / halfLife.Ticks;
        var root = new Account(0, "", -1, 0);
        _accounts.Add(root);
        _byPath.Add("", 0);
    }

    public int Count => _accounts.Count;

    public Account this[int index] => _accounts[index];

    public Account Root => _accounts[0];

    public IEnumerable<Account> All => _accounts;

    public bool TryGet(string path, out Account account)
    {
        if (_byPath.TryGetValue(path, out var i)) { account = _accounts[i]; return true; }
        account = null!;
        return false;
    }

    /// <summary>Adds or updates an account. Validates everything before changing anything.</summary>
    public Account Set(AccountSpec spec, long nowTicks)
    {
        spec.Validate();
        if (!_byPath.TryGetValue(spec.ParentPath, out var parentIndex))
            throw new PolicyException($"account {spec.Path}: parent account '{spec.ParentPath}' does not exist");
        var parent = _accounts[parentIndex];
        if (parentIndex != 0 && parent.Queue.Count > 0 && !_byPath.ContainsKey(spec.Path))
            throw new PolicyException($"account {spec.Path}: parent {parent.Path} has pending jobs and cannot become an organisation");

        var guarantee = ToArray(spec.Guarantee, 0);
        var limit = ToArray(spec.Limit, Account.NoLimit);
        _byPath.TryGetValue(spec.Path, out var existingIndex);
        var existing = existingIndex > 0 ? _accounts[existingIndex] : null;

        // A child's guarantees may not add up to more than its parent's (the root is unbounded).
        for (var t = 0; t < _types.Count; t++)
        {
            if (parentIndex != 0)
            {
                var siblings = 0L;
                foreach (var c in parent.Children)
                    if (c != existingIndex) siblings += _accounts[c].Guarantee[t];
                if (siblings + guarantee[t] > parent.Guarantee[t])
                    throw new PolicyException(
                        $"account {spec.Path}: guarantees of {parent.Path}'s children would add up to {siblings + guarantee[t]} {_types.NameOf(t)}, more than its {parent.Guarantee[t]}");
            }
            if (existing is not null)
            {
                var children = 0L;
                foreach (var c in existing.Children) children += _accounts[c].Guarantee[t];
                if (children > guarantee[t])
                    throw new PolicyException(
                        $"account {spec.Path}: its children's guarantees add up to {children} {_types.NameOf(t)}, more than the new {guarantee[t]}");
            }
        }

        var account = existing;
        if (account is null)
        {
            account = new Account(_accounts.Count, spec.Path, parentIndex, parent.Depth + 1);
            _accounts.Add(account);
            _byPath.Add(spec.Path, account.Index);
            parent.Children.Add(account.Index);
            var up = new List<int>();
            for (var a = account.Index; a != 0; a = _accounts[a].Parent) up.Add(a);
            account.PathUp = [.. up];
            account.UsageTicks = nowTicks;
        }
        account.Spec = spec;
        account.Shares = spec.Shares;
        guarantee.CopyTo(account.Guarantee, 0);
        limit.CopyTo(account.Limit, 0);
        if (account.Budget?.Period != spec.Budget?.Period) account.BudgetPeriodStartTicks = 0;
        account.Budget = spec.Budget;
        account.PriorityPreemption = spec.PriorityPreemption;
        return account;
    }

    public void Remove(string path)
    {
        if (!TryGet(path, out var account) || account.Index == 0) throw new PolicyException($"account '{path}' does not exist");
        if (!account.IsLeaf) throw new PolicyException($"account {path} has child accounts");
        if (account.Queue.Count > 0 || account.GpuRate > 0) throw new PolicyException($"account {path} still has jobs");
        // Keep the slot (indexes are dense and stable); unlink it from the tree and the path map.
        _accounts[account.Parent].Children.Remove(account.Index);
        _byPath.Remove(path);
    }

    private int[] ToArray(IReadOnlyDictionary<string, int> perType, int absent)
    {
        foreach (var type in perType.Keys) _types.GetOrAdd(type);
        var array = new int[GpuTypeTable.MaxTypes];
        Array.Fill(array, absent);
        foreach (var (type, n) in perType) array[_types.GetOrAdd(type)] = n;
        return array;
    }

    /// <summary>Brings one account's decayed usage and budget burn up to <paramref name="nowTicks"/>.</summary>
    /// <remarks>With rate r constant since the last update, usage decays as U·d + r·(1−d)/λ, d = e^(−λΔ):
    /// the closed form of integrating a constant rate under exponential decay, so the result does not
    /// depend on how often it is called.</remarks>
    public void Accrue(Account a, long nowTicks)
    {
        var dt = nowTicks - a.UsageTicks;
        if (dt > 0)
        {
            var d = Math.Exp(-_decayPerTick * dt);
            a.DecayedUsage = (a.DecayedUsage * d) + (a.WeightedRate * (1 - d) / _decayPerTick / TimeSpan.TicksPerSecond);
            if (a.Budget is { } budget)
            {
                var periodStart = Budget.PeriodStart(budget.Period, new DateTimeOffset(nowTicks, TimeSpan.Zero)).UtcTicks;
                if (periodStart != a.BudgetPeriodStartTicks)
                {
                    // A new period: only what ran since it began counts.
                    var since = a.BudgetPeriodStartTicks == 0 ? 0 : Math.Min(dt, nowTicks - periodStart);
                    a.BudgetUsedSeconds = a.BudgetPeriodStartTicks == 0
                        ? a.BudgetUsedSeconds + (a.GpuRate * (double)dt / TimeSpan.TicksPerSecond)
                        : a.GpuRate * (double)since / TimeSpan.TicksPerSecond;
                    a.BudgetPeriodStartTicks = periodStart;
                }
                else
                {
                    a.BudgetUsedSeconds += a.GpuRate * (double)dt / TimeSpan.TicksPerSecond;
                }
            }
            a.UsageTicks = nowTicks;
        }
        else if (a.Budget is { } budget && a.BudgetPeriodStartTicks == 0)
        {
            a.BudgetPeriodStartTicks = Budget.PeriodStart(budget.Period, new DateTimeOffset(nowTicks, TimeSpan.Zero)).UtcTicks;
        }
    }

    public void AccrueAll(long nowTicks)
    {
        foreach (var a in _accounts) Accrue(a, nowTicks);
    }

    /// <summary>Charges or releases a running job's GPUs on every account of its path.</summary>
    public void ChangeHolding(Account project, int type, int gpus, bool borrowing, double weight, long nowTicks)
    {
        foreach (var i in project.PathUp) Change(_accounts[i]);
        Change(Root);

        void Change(Account a)
        {
            Accrue(a, nowTicks);
            a.Used[type] += gpus;
            if (!borrowing) a.Within[type] += gpus;
            a.GpuRate += gpus;
            a.WeightedRate += gpus * weight;
        }
    }

    /// <summary>Adds usage restored from the store after a restart to the account and its ancestors,
    /// whose counters cover their whole subtree.</summary>
    public void RestoreUsage(Account project, double decayedUsage, double budgetUsedSeconds, long nowTicks)
    {
        foreach (var i in project.PathUp) Add(_accounts[i]);
        Add(Root);

        void Add(Account a)
        {
            Accrue(a, nowTicks);
            a.DecayedUsage += decayedUsage;
            a.BudgetUsedSeconds += budgetUsedSeconds;
        }
    }
}
