using Mekong.Policy;

namespace Mekong.Store;

/// <summary>Everything the host needs to rebuild the policy core after a restart, read in one transaction.</summary>
/// <param name="Accounts">Parents before children, so they can be applied in order.</param>
/// <param name="Jobs">Live jobs only (pending, held, preempted, running), by id.</param>
/// <param name="Usage">Runs that ended at or after the requested time, plus every open run.</param>
public sealed record StoreSnapshot(
    IReadOnlyList<AccountSpec> Accounts,
    IReadOnlyList<Member> Members,
    IReadOnlyList<StoredNode> Nodes,
    IReadOnlyList<StoredJob> Jobs,
    IReadOnlyList<UsageRecord> Usage,
    long LastJobId)
{
    public IEnumerable<StoredJob> Running => Jobs.Where(j => j.State == JobState.Running);

    public IEnumerable<StoredJob> Waiting => Jobs.Where(j => j.State.IsWaiting());
}
