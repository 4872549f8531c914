namespace Mekong.Store;

/// <summary>A user's role on an account: <c>member</c>, <c>project-admin</c>, or <c>org-admin</c>.</summary>
public sealed record Member(string Account, string User, string Role)
{
    public static IReadOnlyList<string> Roles { get; } = ["member", "project-admin", "org-admin"];
}
