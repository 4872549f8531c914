using Mekong.Policy;

namespace Mekong.Store.Writing;

/// <summary>Adds or replaces an account. Its parent must exist (organisations hang off the root, <c>''</c>).</summary>
internal sealed class SetAccount(AccountSpec a, DateTimeOffset at) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        if (a.ParentPath.Length > 0 && session.Scalar("SELECT 1 FROM accounts WHERE path = @p0", a.ParentPath) is null)
            throw new StoreException($"account {a.Path}: parent '{a.ParentPath}' does not exist");
        session.Execute("""
            INSERT INTO accounts (path, parent, shares, guarantees, limits, budget_gpu_hours, budget_period, budget_action,
                priority_preemption, updated_at, kind, display_name, organisation_class)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12)
            ON CONFLICT (path) DO UPDATE SET shares = excluded.shares, guarantees = excluded.guarantees,
                limits = excluded.limits, budget_gpu_hours = excluded.budget_gpu_hours, budget_period = excluded.budget_period,
                budget_action = excluded.budget_action, priority_preemption = excluded.priority_preemption,
                updated_at = excluded.updated_at, kind = excluded.kind, display_name = excluded.display_name,
                organisation_class = excluded.organisation_class
            """,
            a.Path, a.ParentPath, a.Shares, StoreCodec.Json(a.Guarantee), StoreCodec.Json(a.Limit), a.Budget?.GpuHours,
            a.Budget is { } b ? StoreCodec.Text(b.Period) : null, a.Budget is { } c ? StoreCodec.Text(c.OnExhausted) : null,
            StoreCodec.Bool(a.PriorityPreemption), at.UtcTicks, a.Kind is { } k ? StoreCodec.Text(k) : null, a.DisplayName,
            a.OrganisationClass is { } oc ? StoreCodec.Text(oc) : null);
    }
}

internal sealed class RemoveAccount(string path) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        if (session.Scalar("SELECT 1 FROM accounts WHERE path = @p0", path) is null)
            throw new StoreException($"account '{path}' does not exist");
        if (session.Scalar("SELECT 1 FROM accounts WHERE parent = @p0 LIMIT 1", path) is not null)
            throw new StoreException($"account '{path}' has child accounts; remove them first");
        session.Execute("DELETE FROM members WHERE account = @p0", path);
        session.Execute("DELETE FROM accounts WHERE path = @p0", path);
    }
}

internal sealed class SetMember(Member m) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        if (session.Scalar("SELECT 1 FROM accounts WHERE path = @p0", m.Account) is null)
            throw new StoreException($"account '{m.Account}' does not exist");
        session.Execute("""
            INSERT INTO members (account, user_name, role) VALUES (@p0, @p1, @p2)
            ON CONFLICT (account, user_name) DO UPDATE SET role = excluded.role
            """, m.Account, m.User, m.Role);
    }
}

internal sealed class RemoveMember(string account, string user) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        if (session.Execute("DELETE FROM members WHERE account = @p0 AND user_name = @p1", account, user) == 0)
            throw new StoreException($"user '{user}' is not a member of '{account}'");
    }
}

internal sealed class SetNode(NodeSpec n, NodeState state, DateTimeOffset at) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session) =>
        session.Execute("""
            INSERT INTO nodes (name, gpu_type, gpus, cpu_cores, memory_mb, block, state, updated_at)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)
            ON CONFLICT (name) DO UPDATE SET gpu_type = excluded.gpu_type, gpus = excluded.gpus, cpu_cores = excluded.cpu_cores,
                memory_mb = excluded.memory_mb, block = excluded.block, state = excluded.state, updated_at = excluded.updated_at
            """, n.Name, n.GpuType, n.Gpus, n.CpuCores, n.MemoryMb, n.Block, StoreCodec.Text(state), at.UtcTicks);
}

internal sealed class SetNodeState(string node, NodeState state, DateTimeOffset at) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        if (session.Execute("UPDATE nodes SET state = @p1, updated_at = @p2 WHERE name = @p0", node, StoreCodec.Text(state), at.UtcTicks) == 0)
            throw new StoreException($"node '{node}' does not exist");
    }
}

internal sealed class IssueToken(IssuedToken issued) : Mutation<IssuedToken>
{
    protected override IssuedToken Result => issued;

    public override void Apply(WriteSession session)
    {
        var t = issued.Token;
        session.Execute("""
            INSERT INTO api_tokens (id, secret_hash, name, subject, roles, created_at, revoked_at, expires_at)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, NULL, @p6)
            """, t.Id, TokenSecret.Hash(issued.Secret), t.Name, t.Subject, StoreCodec.Json(t.Roles), t.Created.UtcTicks, t.Expires?.UtcTicks);
    }
}

internal sealed class RevokeToken(string id, DateTimeOffset at) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        if (session.Execute("UPDATE api_tokens SET revoked_at = @p1 WHERE id = @p0 AND revoked_at IS NULL", id, at.UtcTicks) == 0)
            throw new StoreException($"token '{id}' does not exist or is already revoked");
    }
}
