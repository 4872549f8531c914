using Mekong.Api.V1;
using Mekong.Policy;
using Mekong.Scheduler.Core;
using Mekong.Scheduler.Identity;
using Mekong.Store;
using Mekong.Transport;
using Member = Mekong.Store.Member;

namespace Mekong.Scheduler.Services;

/// <summary>mekong.v1.AdminService: the account tree, members, nodes and API tokens. Changes are committed
/// before they are acknowledged. Centre admins change accounts, nodes and tokens; project and organisation
/// admins manage their accounts' members; every user may read the tree and the nodes (aggregates only).</summary>
internal sealed class AdminApi(SchedulerCore core, MekongStore store, Authenticator auth, Access access, SchedulerOptions options)
{
    public RpcServiceDefinition Definition() => RpcServiceDefinition.For(AdminServiceRpc.Descriptor)
        .Unary(AdminServiceRpc.GetAccountTree, GetAccountTreeAsync)
        .Unary(AdminServiceRpc.SetAccount, SetAccountAsync)
        .Unary(AdminServiceRpc.RemoveAccount, RemoveAccountAsync)
        .Unary(AdminServiceRpc.ListMembers, ListMembersAsync)
        .Unary(AdminServiceRpc.SetMember, SetMemberAsync)
        .Unary(AdminServiceRpc.RemoveMember, RemoveMemberAsync)
        .Unary(AdminServiceRpc.ListNodes, ListNodesAsync)
        .Unary(AdminServiceRpc.DrainNode, DrainNodeAsync)
        .Unary(AdminServiceRpc.ResumeNode, ResumeNodeAsync)
        .Unary(AdminServiceRpc.IssueToken, IssueTokenAsync)
        .Unary(AdminServiceRpc.ListTokens, ListTokensAsync)
        .Unary(AdminServiceRpc.RevokeToken, RevokeTokenAsync)
        .Build();

    private async Task<Caller> UserAsync(CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        return caller;
    }

    private async Task<GetAccountTreeResponse> GetAccountTreeAsync(GetAccountTreeRequest request, CallContext context)
    {
        await UserAsync(context).ConfigureAwait(false);
        var top = request.Path;
        if (top.Length > 0 && !core.Catalog.Accounts.ContainsKey(top)) throw new RpcException(StatusCode.NotFound, $"account '{top}' does not exist");
        var topDepth = top.Length == 0 ? 0 : top.Count(c => c == '/') + 1;
        var response = new GetAccountTreeResponse();
        var accounts = await core.AccountsAsync().ConfigureAwait(false);
        foreach (var a in accounts.OrderBy(a => a.Path.Count(c => c == '/')).ThenBy(a => a.Path, StringComparer.Ordinal))
        {
            if (!Membership.Covers(top, a.Path)) continue;
            var depth = (a.Path.Length == 0 ? 0 : a.Path.Count(c => c == '/') + 1) - topDepth;
            if (request.Depth > 0 && depth > request.Depth) continue;
            response.Accounts.Add(ProtoMapping.ToProto(a));
        }
        return response;
    }

    private async Task<SetAccountResponse> SetAccountAsync(SetAccountRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        Access.RequireAdmin(caller, "change accounts");
        var spec = ToSpec(request.Account ?? throw SubmitValidator.Invalid("account", "is required"));
        await core.SetAccountAsync(spec).ConfigureAwait(false);
        var view = (await core.AccountsAsync().ConfigureAwait(false)).First(a => a.Path == spec.Path);
        return new SetAccountResponse { Account = ProtoMapping.ToProto(view) };
    }

    private async Task<RemoveAccountResponse> RemoveAccountAsync(RemoveAccountRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        Access.RequireAdmin(caller, "remove accounts");
        if (request.Path.Length == 0) throw SubmitValidator.Invalid("path", "is required (the root cannot be removed)");
        if (!core.Catalog.Accounts.ContainsKey(request.Path)) throw new RpcException(StatusCode.NotFound, $"account '{request.Path}' does not exist");
        await core.RemoveAccountAsync(request.Path).ConfigureAwait(false);
        return new RemoveAccountResponse();
    }

    private async Task<ListMembersResponse> ListMembersAsync(ListMembersRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        RequireAccount(request.Account, "account");
        access.RequireMember(caller, request.Account);
        var response = new ListMembersResponse();
        response.Members.AddRange(access.Members.MembersOf(request.Account, request.IncludeInherited).Select(ProtoMapping.ToProto));
        return response;
    }

    private async Task<SetMemberResponse> SetMemberAsync(SetMemberRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        var m = request.Member ?? throw SubmitValidator.Invalid("member", "is required");
        RequireAccount(m.Account, "member.account");
        if (string.IsNullOrWhiteSpace(m.User) || m.User.Length > 256) throw SubmitValidator.Invalid("member.user", "is required (at most 256 characters)");
        var role = m.Role switch
        {
            Role.Member => ProjectRole.Member,
            Role.ProjectAdmin => ProjectRole.ProjectAdmin,
            Role.OrgAdmin => ProjectRole.OrgAdmin,
            Role.Admin => throw SubmitValidator.Invalid("member.role", "centre admin is granted by an admin token or the identity provider's roles claim, not by membership"),
            _ => throw SubmitValidator.Invalid("member.role", "must be MEMBER, PROJECT_ADMIN or ORG_ADMIN"),
        };
        RequireManager(caller, m.Account, role);
        var member = new Member(m.Account, m.User, Membership.Text(role));
        await store.Writer.SetMemberAsync(member).ConfigureAwait(false);
        access.Members.Set(member);
        return new SetMemberResponse { Member = ProtoMapping.ToProto(member) };
    }

    private async Task<RemoveMemberResponse> RemoveMemberAsync(RemoveMemberRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        RequireAccount(request.Account, "account");
        RequireManager(caller, request.Account, ProjectRole.Member);
        await store.Writer.RemoveMemberAsync(request.Account, request.User).ConfigureAwait(false);
        access.Members.Remove(request.Account, request.User);
        return new RemoveMemberResponse();
    }

    private async Task<ListNodesResponse> ListNodesAsync(ListNodesRequest request, CallContext context)
    {
        await UserAsync(context).ConfigureAwait(false);
        var states = request.States.ToHashSet();
        var response = new ListNodesResponse();
        foreach (var n in await core.ListNodesAsync().ConfigureAwait(false))
            if ((request.GpuType.Length == 0 || n.GpuType == request.GpuType) && (states.Count == 0 || states.Contains(n.State)))
                response.Nodes.Add(n);
        return response;
    }

    private async Task<DrainNodeResponse> DrainNodeAsync(DrainNodeRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        Access.RequireAdmin(caller, "drain nodes");
        if (request.Name.Length == 0) throw SubmitValidator.Invalid("name", "is required");
        return new DrainNodeResponse { Node = await core.SetNodeStateAsync(request.Name, drain: true, request.Reason).ConfigureAwait(false) };
    }

    private async Task<ResumeNodeResponse> ResumeNodeAsync(ResumeNodeRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        Access.RequireAdmin(caller, "resume nodes");
        if (request.Name.Length == 0) throw SubmitValidator.Invalid("name", "is required");
        return new ResumeNodeResponse { Node = await core.SetNodeStateAsync(request.Name, drain: false, null).ConfigureAwait(false) };
    }

    private async Task<IssueTokenResponse> IssueTokenAsync(IssueTokenRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        Access.RequireAdmin(caller, "issue tokens");
        if (string.IsNullOrWhiteSpace(request.User) || request.User.Length > 256) throw SubmitValidator.Invalid("user", "is required (at most 256 characters)");
        if (request.Description.Length > 256) throw SubmitValidator.Invalid("description", "must be at most 256 characters");
        TimeSpan? ttl = null;
        if (request.Ttl is { } d)
        {
            var t = SubmitValidator.Duration(d, "ttl");
            if (t <= TimeSpan.Zero) throw SubmitValidator.Invalid("ttl", "must be positive (leave it unset for a token that never expires)");
            if (t > options.MaxTokenTtl) throw SubmitValidator.Invalid("ttl", $"must be at most {options.MaxTokenTtl.TotalDays:0.##} days");
            ttl = t;
        }
        foreach (var role in request.Roles)
            if (role is not (Caller.AdminRole or Caller.AgentRole)) throw SubmitValidator.Invalid("roles", $"'{role}' is not a token role (admin, agent)");
        var issued = await store.Writer.IssueTokenAsync(request.Description.Length > 0 ? request.Description : request.User, request.User,
            request.Roles.Distinct().ToArray(), ttl).ConfigureAwait(false);
        var token = ProtoMapping.ToProto(issued.Token);
        token.IssuedBy = caller.User;
        return new IssueTokenResponse { Token = token, Secret = issued.Secret };
    }

    private async Task<ListTokensResponse> ListTokensAsync(ListTokensRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        var user = request.User;
        if (!caller.IsAdmin)
        {
            if (user.Length > 0 && user != caller.User) throw new RpcException(StatusCode.PermissionDenied, "only centre admins may list other users' tokens");
            user = caller.User;
        }
        var response = new ListTokensResponse();
        var now = core.Now;
        foreach (var t in (await store.ListTokensAsync(context.CancellationToken).ConfigureAwait(false)).Reverse())
            if ((user.Length == 0 || t.Subject == user) && (request.IncludeRevoked || !(t.IsRevoked || t.IsExpired(now))))
                response.Tokens.Add(ProtoMapping.ToProto(t));
        return response;
    }

    private async Task<RevokeTokenResponse> RevokeTokenAsync(RevokeTokenRequest request, CallContext context)
    {
        var caller = await UserAsync(context).ConfigureAwait(false);
        if (request.Id.Length == 0) throw SubmitValidator.Invalid("id", "is required");
        var token = (await store.ListTokensAsync(context.CancellationToken).ConfigureAwait(false)).FirstOrDefault(t => t.Id == request.Id)
            ?? throw new RpcException(StatusCode.NotFound, $"token {request.Id} not found");
        if (!caller.IsAdmin && token.Subject != caller.User) throw new RpcException(StatusCode.PermissionDenied, "only centre admins may revoke other users' tokens");
        await store.Writer.RevokeTokenAsync(request.Id).ConfigureAwait(false);
        auth.Forget(request.Id);
        return new RevokeTokenResponse { Token = ProtoMapping.ToProto(token with { Revoked = token.Revoked ?? core.Now }) };
    }

    private void RequireAccount(string path, string field)
    {
        if (path.Length == 0) throw SubmitValidator.Invalid(field, "is required");
        if (!core.Catalog.Accounts.ContainsKey(path)) throw new RpcException(StatusCode.NotFound, $"account '{path}' does not exist");
    }

    /// <summary>Project admins manage their projects' members; organisation admins their organisation's; nobody
    /// grants a role above their own.</summary>
    private void RequireManager(Caller caller, string account, ProjectRole granting)
    {
        if (caller.IsAdmin) return;
        var own = access.RoleOn(caller, account);
        if (own < ProjectRole.ProjectAdmin || granting > own)
            throw new RpcException(StatusCode.PermissionDenied, $"{caller.User} may not manage members of {account}");
    }

    /// <summary>The API's account to the core's, every field checked.</summary>
    private static AccountSpec ToSpec(Account a)
    {
        if (a.Path.Length == 0) throw SubmitValidator.Invalid("account.path", "is required (the root is implicit)");
        if (a.Path.Length > 256 || a.Path.StartsWith('/') || a.Path.EndsWith('/') || a.Path.Contains("//", StringComparison.Ordinal)
            || a.Path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw SubmitValidator.Invalid("account.path", $"'{a.Path}' is not a slash-separated name like org/project");
        var guarantee = new Dictionary<string, int>(StringComparer.Ordinal);
        var limit = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var q in a.Quotas)
        {
            if (string.IsNullOrWhiteSpace(q.GpuType)) throw SubmitValidator.Invalid("account.quotas.gpu_type", "is required");
            if (!guarantee.TryAdd(q.GpuType, (int)Math.Min(q.Guarantee, int.MaxValue))) throw SubmitValidator.Invalid("account.quotas", $"{q.GpuType} is listed twice");
            if (q.HasLimit)
            {
                if (q.Limit < q.Guarantee) throw SubmitValidator.Invalid("account.quotas.limit", $"{q.GpuType}: limit {q.Limit} is below the guarantee {q.Guarantee}");
                limit[q.GpuType] = (int)Math.Min(q.Limit, int.MaxValue);
            }
        }
        Policy.Budget? budget = null;
        if (a.Budget is { } b)
        {
            if (!(b.GpuHours >= 0) || b.GpuHours > 1e12) throw SubmitValidator.Invalid("account.budget.gpu_hours", "must be a non-negative number");
            var period = b.Period switch
            {
                Mekong.Api.V1.BudgetPeriod.Month => Policy.BudgetPeriod.Month,
                Mekong.Api.V1.BudgetPeriod.Quarter => Policy.BudgetPeriod.Quarter,
                Mekong.Api.V1.BudgetPeriod.Year => Policy.BudgetPeriod.Year,
                _ => throw SubmitValidator.Invalid("account.budget.period", "must be MONTH, QUARTER or YEAR"),
            };
            budget = new Policy.Budget((long)Math.Round(b.GpuHours), period, b.OnExhausted == OnExhausted.Scavenge ? BudgetAction.Scavenge : BudgetAction.Hold);
        }
        var spec = new AccountSpec(a.Path)
        {
            Shares = a.Shares == 0 ? 1 : (int)Math.Min(a.Shares, 1_000_000),
            Guarantee = guarantee,
            Limit = limit,
            Budget = budget,
            PriorityPreemption = a.AllowPriorityPreemption,
        };
        var kind = a.Kind switch
        {
            Mekong.Api.V1.AccountKind.Unspecified => (Policy.AccountKind?)null,
            Mekong.Api.V1.AccountKind.Organisation => Policy.AccountKind.Organisation,
            Mekong.Api.V1.AccountKind.Project => Policy.AccountKind.Project,
            _ => throw SubmitValidator.Invalid("account.kind", "must be ORGANISATION or PROJECT (the root is implicit)"),
        };
        if (a.DisplayName.Length > 256 || a.DisplayName.Any(char.IsControl))
            throw SubmitValidator.Invalid("account.display_name", "must be at most 256 characters, without control characters");
        var organisationClass = a.OrganisationClass switch
        {
            Mekong.Api.V1.OrganisationClass.Unspecified => (Policy.OrganisationClass?)null,
            Mekong.Api.V1.OrganisationClass.Academic => Policy.OrganisationClass.Academic,
            Mekong.Api.V1.OrganisationClass.Government => Policy.OrganisationClass.Government,
            Mekong.Api.V1.OrganisationClass.Enterprise => Policy.OrganisationClass.Enterprise,
            _ => throw SubmitValidator.Invalid("account.organisation_class", "must be ACADEMIC, GOVERNMENT or ENTERPRISE"),
        };
        // A value equal to its default is stored as "not set", so that a client writing back what it read (the
        // CLI's read-modify-write) does not pin a default. The class is returned as set, never as inherited,
        // for the same reason: pinning an inherited class would cut it off from its parent's.
        return spec with
        {
            Kind = kind == ProtoMapping.InferredKind(a.Path) ? null : kind,
            DisplayName = a.DisplayName.Trim() is { Length: > 0 } name && name != spec.Name ? name : null,
            OrganisationClass = organisationClass,
        };
    }
}
