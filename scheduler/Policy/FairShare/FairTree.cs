using Mekong.Policy.Accounts;

namespace Mekong.Policy.FairShare;

/// <summary>Orders projects by a depth-first walk of the account tree with siblings ranked by
/// <see cref="FairShareKey"/>: a whole organisation's overuse weighs on all of its projects.</summary>
internal sealed class FairTree
{
    private readonly List<int> _order = [];
    private readonly List<(FairShareKey Key, int Account)> _scratch = [];

    /// <summary>Leaf accounts (projects) in fair-share order. Valid until the next <see cref="Compute"/>.</summary>
    public IReadOnlyList<int> Order => _order;

    /// <summary>Ranks the tree as of the accounts' current (already accrued) usage.</summary>
    public void Compute(AccountTree accounts)
    {
        _order.Clear();
        Walk(accounts, accounts.Root);
    }

    private void Walk(AccountTree accounts, Account parent)
    {
        var children = parent.Children;
        if (children.Count == 0)
        {
            if (parent.Index != 0) _order.Add(parent.Index);
            return;
        }
        long shares = 0;
        double usage = 0;
        foreach (var c in children)
        {
            shares += accounts[c].Shares;
            usage += accounts[c].DecayedUsage;
        }
        var start = _scratch.Count;
        foreach (var c in children)
        {
            var a = accounts[c];
            _scratch.Add((FairShareKey.For(a.Shares, shares, a.DecayedUsage, usage, a.Name), c));
        }
        // A span sorted with a static comparison: List.Sort with an IComparer allocates a delegate per call.
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_scratch).Slice(start, children.Count).Sort(static (x, y) => x.Key.CompareTo(y.Key));
        // Copy this level out before recursing: deeper levels reuse the scratch list.
        Span<int> ranked = children.Count <= 256 ? stackalloc int[children.Count] : new int[children.Count];
        for (var i = 0; i < children.Count; i++) ranked[i] = _scratch[start + i].Account;
        _scratch.RemoveRange(start, children.Count);
        foreach (var c in ranked) Walk(accounts, accounts[c]);
    }
}
