using System.Runtime.InteropServices;

namespace Mekong.Agent.Native;

/// <summary>
/// The few libc calls the agent needs that .NET does not offer: spawning a job in its own session
/// with its output going straight to files (so it outlives the agent), signalling a process group,
/// waiting without reaping, and user lookup through NSS. Linux (glibc, x86-64 and arm64) only.
/// </summary>
internal static unsafe partial class Libc
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    public const int WNOHANG = 1;
    public const int WEXITED = 4;
    public const int WNOWAIT = 0x01000000;
    public const int P_PID = 1;

    public const int ECHILD = 10;
    public const int ESRCH = 3;
    public const int EINTR = 4;

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_APPEND = 0x400;

    // glibc's posix_spawn flags.
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const short POSIX_SPAWN_SETSID = 0x80;

    // Opaque glibc types, over-allocated: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t
    // 80 and sigset_t 128 on x86-64.
    public const int SpawnAttrSize = 1024;
    public const int FileActionsSize = 256;
    public const int SigSetSize = 256;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitpid(int pid, out int status, int options);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitid(int idtype, int id, byte* infop, int options);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, uint owner, uint group);

    [LibraryImport("libc")]
    public static partial long sysconf(int name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint getpwnam(string name);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn(out int pid, string path, nint fileActions, nint attr, nint argv, nint envp);

    [LibraryImport("libc")]
    public static partial int posix_spawn_file_actions_init(nint fileActions);

    [LibraryImport("libc")]
    public static partial int posix_spawn_file_actions_destroy(nint fileActions);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addopen(nint fileActions, int fd, string path, int oflag, int mode);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addchdir_np(nint fileActions, string path);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_init(nint attr);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_destroy(nint attr);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setflags(nint attr, short flags);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setsigdefault(nint attr, nint sigset);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setsigmask(nint attr, nint sigset);

    [LibraryImport("libc")]
    public static partial int sigemptyset(nint set);

    [LibraryImport("libc")]
    public static partial int sigfillset(nint set);

    /// <summary>Clock ticks per second (the unit of /proc/PID/stat's times).</summary>
    public static long ClockTicks => sysconf(2) is var t and > 0 ? t : 100;

    public static long PageSize => sysconf(30) is var p and > 0 ? p : 4096;

    public static bool IsRoot => geteuid() == 0;

    /// <summary>
    /// Blocks until the child exits, without reaping it (the zombie keeps its pid until
    /// <see cref="TryReap"/>), so an agent that abandons a job leaves its status to the next owner.
    /// False when the pid is not this process's child.
    /// </summary>
    public static bool WaitForExitNoReap(int pid)
    {
        var info = stackalloc byte[128];
        while (true)
        {
            if (waitid(P_PID, pid, info, WEXITED | WNOWAIT) == 0)
            {
                return true;
            }

            if (Marshal.GetLastPInvokeError() != EINTR)
            {
                return false;
            }
        }
    }

    /// <summary>Reaps an exited child: its wait status, null when still running, or ECHILD when not a child.</summary>
    public static (bool IsChild, int? Status) TryReap(int pid)
    {
        while (true)
        {
            var r = waitpid(pid, out var status, WNOHANG);
            if (r == pid)
            {
                return (true, status);
            }

            if (r == 0)
            {
                return (true, null);
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                return (false, null);
            }
        }
    }
}
