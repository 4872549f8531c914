namespace Mekong.Scheduler.Identity;

/// <summary>Who made a call, as the bearer credential says: a user, possibly a centre admin, or a node agent.</summary>
/// <param name="User">The user name (API token subject or the JWT's <c>sub</c>).</param>
/// <param name="IsAdmin">A centre admin: everything is allowed.</param>
/// <param name="IsAgent">A node agent's credential: only the agent channel.</param>
public sealed record Caller(string User, bool IsAdmin, bool IsAgent)
{
    /// <summary>The roles a token or JWT may carry.</summary>
    public const string AdminRole = "admin";

    /// <summary>See <see cref="AdminRole"/>.</summary>
    public const string AgentRole = "agent";

    public static Caller FromRoles(string user, IEnumerable<string> roles)
    {
        var set = roles.ToHashSet(StringComparer.Ordinal);
        return new Caller(user, set.Contains(AdminRole), set.Contains(AgentRole));
    }
}
