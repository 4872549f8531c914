using Mekong.Policy.Accounts;

namespace Mekong.Policy.FairShare;

/// <summary>Each account's entitled share of the cluster right now: the hierarchical weighted max-min fair
/// allocation (water-filling) of the up GPUs among the accounts with demand, weighted by shares.</summary>
/// <remarks>
/// Demand is what a project holds plus what it has queued, in GPUs of any type; an organisation's demand is
/// its children's. From the root down, each account's entitlement is split among its children with demand:
/// a child asking for less than its shares' part of what is left gets all it asks, the rest is divided by
/// shares among the others (max-min fairness, as in DRF or Kueue's fair sharing, over one resource). When the
/// cluster can hold every demand, every account is entitled to all it asks; only under contention does an
/// entitlement fall below demand. GPU types are pooled: the share is of the whole cluster.
/// A start moves GPUs from queued to held, so demand — and with it the entitlement — does not change within a
/// decision: whenever in a decision it is computed, it is the same.
/// </remarks>
internal sealed class EntitledShares
{
    private double[] _entitled = [];
    private long[] _demand = [];
    private readonly List<int> _children = [];
    private DemandPerShare[] _keys = [];

    /// <summary>The account's entitlement in GPUs, as of the last <see cref="Compute"/>.</summary>
    public double this[int account] => _entitled[account];

    public void Compute(AccountTree accounts, long capacity)
    {
        if (_entitled.Length < accounts.Count)
        {
            _entitled = new double[accounts.Count * 2];
            _demand = new long[accounts.Count * 2];
        }
        Demand(accounts, accounts.Root);
        _entitled[0] = Math.Min(capacity, _demand[0]);
        Fill(accounts, accounts.Root);
    }

    private long Demand(AccountTree accounts, Account a)
    {
        long demand;
        if (a.IsLeaf) demand = a.Index == 0 ? 0 : a.GpuRate + a.Queue.PendingGpus;
        else
        {
            demand = 0;
            foreach (var c in a.Children) demand += Demand(accounts, accounts[c]);
        }
        return _demand[a.Index] = demand;
    }

    private void Fill(AccountTree accounts, Account parent)
    {
        if (parent.IsLeaf) return;
        var start = _children.Count;
        double shares = 0;
        foreach (var c in parent.Children)
        {
            _entitled[c] = 0;
            if (_demand[c] == 0) continue;
            _children.Add(c);
            shares += accounts[c].Shares;
        }
        var count = _children.Count - start;
        // Smallest demand per share first: those are the children that ask for less than their part. Sorted by
        // keys computed once (ties by index: a total order).
        var keys = _keys.Length >= count ? _keys.AsSpan(0, count) : (_keys = new DemandPerShare[count * 2]).AsSpan(0, count);
        for (var i = 0; i < count; i++)
        {
            var c = _children[start + i];
            keys[i] = new DemandPerShare((double)_demand[c] / accounts[c].Shares, c);
        }
        keys.Sort();
        for (var i = 0; i < count; i++) _children[start + i] = keys[i].Account;
        var left = _entitled[parent.Index];
        for (var k = start; k < _children.Count; k++)
        {
            var c = _children[k];
            var part = left * accounts[c].Shares / shares;
            if (_demand[c] <= part)
            {
                _entitled[c] = _demand[c];
                left -= _demand[c];
                shares -= accounts[c].Shares;
                continue;
            }
            for (var r = k; r < _children.Count; r++) _entitled[_children[r]] = left * accounts[_children[r]].Shares / shares;
            break;
        }
        // Copy out before recursing: deeper levels reuse the list.
        Span<int> ranked = count <= 256 ? stackalloc int[count] : new int[count];
        for (var i = 0; i < count; i++) ranked[i] = _children[start + i];
        _children.RemoveRange(start, count);
        foreach (var c in ranked) Fill(accounts, accounts[c]);
    }

    private readonly record struct DemandPerShare(double Value, int Account) : IComparable<DemandPerShare>
    {
        public int CompareTo(DemandPerShare other)
        {
            var c = Value.CompareTo(other.Value);
            return c != 0 ? c : Account.CompareTo(other.Account);
        }
    }
}
