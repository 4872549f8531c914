using Mekong.Store;

namespace Mekong.Scheduler.Identity;

/// <summary>Project roles, weakest first. Roles are inherited down the account tree.</summary>
public enum ProjectRole
{
    None = 0,
    Member = 1,
    ProjectAdmin = 2,
    OrgAdmin = 3,
}

/// <summary>Who belongs to which account, in memory (loaded from the store, changed only after the store
/// has committed a change). Read by every call; written rarely.</summary>
public sealed class Membership
{
    private readonly Lock _lock = new();
    private Dictionary<string, Dictionary<string, ProjectRole>> _byUser = new(StringComparer.Ordinal);

    public Membership(IEnumerable<Member> members)
    {
        foreach (var m in members) Set(m);
    }

    public static ProjectRole Parse(string role) => role switch
    {
        "member" => ProjectRole.Member,
        "project-admin" => ProjectRole.ProjectAdmin,
        "org-admin" => ProjectRole.OrgAdmin,
        _ => ProjectRole.None,
    };

    public static string Text(ProjectRole role) => role switch
    {
        ProjectRole.Member => "member",
        ProjectRole.ProjectAdmin => "project-admin",
        ProjectRole.OrgAdmin => "org-admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "not a stored role"),
    };

    public void Set(Member member)
    {
        lock (_lock)
        {
            var copy = new Dictionary<string, Dictionary<string, ProjectRole>>(_byUser, StringComparer.Ordinal);
            var roles = copy.TryGetValue(member.User, out var r) ? new Dictionary<string, ProjectRole>(r, StringComparer.Ordinal) : new(StringComparer.Ordinal);
            roles[member.Account] = Parse(member.Role);
            copy[member.User] = roles;
            _byUser = copy;
        }
    }

    public void Remove(string account, string user)
    {
        lock (_lock)
        {
            if (!_byUser.TryGetValue(user, out var r) || !r.ContainsKey(account)) return;
            var copy = new Dictionary<string, Dictionary<string, ProjectRole>>(_byUser, StringComparer.Ordinal);
            var roles = new Dictionary<string, ProjectRole>(r, StringComparer.Ordinal);
            roles.Remove(account);
            copy[user] = roles;
            _byUser = copy;
        }
    }

    /// <summary>The strongest role <paramref name="user"/> holds on <paramref name="account"/> or any ancestor.</summary>
    public ProjectRole RoleOn(string user, string account)
    {
        if (!Volatile.Read(ref _byUser).TryGetValue(user, out var roles)) return ProjectRole.None;
        var best = ProjectRole.None;
        foreach (var (path, role) in roles)
            if (role > best && Covers(path, account)) best = role;
        return best;
    }

    /// <summary>The accounts the user belongs to directly (their subtrees are visible to them).</summary>
    public IReadOnlyList<string> AccountsOf(string user) =>
        Volatile.Read(ref _byUser).TryGetValue(user, out var roles) ? roles.Keys.Order(StringComparer.Ordinal).ToArray() : [];

    /// <summary>Direct members of <paramref name="account"/>, and with <paramref name="inherited"/> those of its ancestors.</summary>
    public IReadOnlyList<Member> MembersOf(string account, bool inherited)
    {
        var list = new List<Member>();
        foreach (var (user, roles) in Volatile.Read(ref _byUser))
            foreach (var (path, role) in roles)
                if (path == account || (inherited && Covers(path, account)))
                    list.Add(new Member(path, user, Text(role)));
        return list.OrderBy(m => m.User, StringComparer.Ordinal).ThenBy(m => m.Account, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="path"/> or one of its ancestors ("" is the root).</summary>
    public static bool Covers(string ancestor, string path) =>
        ancestor.Length == 0 || path == ancestor || (path.Length > ancestor.Length && path[ancestor.Length] == '/' && path.StartsWith(ancestor, StringComparison.Ordinal));
}
