using Mekong.Scheduler.Identity;
using Mekong.Store;
using Mekong.Transport;

namespace Mekong.Scheduler.Services;

/// <summary>Who may do what to jobs and accounts (DESIGN.md "Security"): members submit to and see their
/// projects' jobs; project and organisation admins also cancel them and manage members; centre admins
/// may do everything. Agent credentials only open the agent channel.</summary>
internal sealed class Access(Membership members)
{
    public Membership Members => members;

    /// <summary>Refuses agent credentials on user APIs.</summary>
    public static void RequireUser(Caller caller)
    {
        if (caller.IsAgent && !caller.IsAdmin) throw new RpcException(StatusCode.PermissionDenied, "an agent credential may only open the agent channel");
    }

    public static void RequireAdmin(Caller caller, string what)
    {
        if (!caller.IsAdmin) throw new RpcException(StatusCode.PermissionDenied, $"only centre admins may {what}");
    }

    public ProjectRole RoleOn(Caller caller, string account) => caller.IsAdmin ? ProjectRole.OrgAdmin : members.RoleOn(caller.User, account);

    public void RequireMember(Caller caller, string project)
    {
        if (!caller.IsAdmin && members.RoleOn(caller.User, project) == ProjectRole.None)
            throw new RpcException(StatusCode.PermissionDenied, $"{caller.User} is not a member of {project}");
    }

    /// <summary>Whether the caller sees the job in detail: its owner, a member of its project, or an admin.</summary>
    public bool CanSee(Caller caller, StoredJob job) =>
        caller.IsAdmin || job.Spec.User == caller.User || members.RoleOn(caller.User, job.Spec.Project) != ProjectRole.None;

    /// <summary>Whether the caller may cancel the job: its owner, a project or organisation admin above it, or an admin.</summary>
    public bool CanCancel(Caller caller, StoredJob job) =>
        caller.IsAdmin || job.Spec.User == caller.User || members.RoleOn(caller.User, job.Spec.Project) >= ProjectRole.ProjectAdmin;

    /// <summary>The project subtrees a listing may show: null for all (admins), else the caller's accounts
    /// narrowed to <paramref name="filter"/>.</summary>
    public IReadOnlyList<string>? VisibleProjects(Caller caller, string filter)
    {
        if (caller.IsAdmin) return filter.Length == 0 ? null : [filter];
        var visible = new List<string>();
        foreach (var account in members.AccountsOf(caller.User))
        {
            if (filter.Length == 0) visible.Add(account);
            else if (Membership.Covers(account, filter)) return [filter];
            else if (Membership.Covers(filter, account)) visible.Add(account);
        }
        return visible;
    }
}
