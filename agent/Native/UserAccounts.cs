using System.Runtime.InteropServices;

namespace Mekong.Agent.Native;

/// <summary>A user of the node as NSS knows it (files, LDAP, SSSD: whatever the node maps users with).</summary>
internal sealed record UserAccount(string Name, uint Uid, uint Gid, string Home);

/// <summary>User lookup through getpwnam, so that jobs run under the submitting user's uid.</summary>
internal static class UserAccounts
{
    private static readonly Lock Gate = new();

    /// <summary>The user, or null when the node does not know the name.</summary>
    public static UserAccount? Find(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        // getpwnam returns a static buffer: one caller at a time.
        lock (Gate)
        {
            var pw = Libc.getpwnam(name);
            if (pw == 0)
            {
                return null;
            }

            // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; char *pw_gecos; char *pw_dir; char *pw_shell; }
            var uid = (uint)Marshal.ReadInt32(pw, 2 * nint.Size);
            var gid = (uint)Marshal.ReadInt32(pw, (2 * nint.Size) + 4);
            var dir = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(pw, (3 * nint.Size) + 8)) ?? "/";
            return new UserAccount(name, uid, gid, dir);
        }
    }
}
