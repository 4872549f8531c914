using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Mekong.Agent.Native;

/// <summary>
/// Starts a process with posix_spawn: a new session (so its process group is its pid and a signal to
/// the group reaches every child that stays in it), default signal dispositions and an empty signal
/// mask (nothing the agent's runtime ignores leaks into the job), stdin from /dev/null and stdout and
/// stderr appended straight to files. No pipes to the agent: the job keeps running and logging when
/// the agent restarts. .NET's Process cannot do any of this, and no managed code can run between fork
/// and exec, hence libc.
/// </summary>
internal static class Spawner
{
    // 0600: a job's output is its user's business (the agent, as root, reads it to forward it).
    private const int LogFileMode = 0x180;

    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> env,
        string workingDirectory, string stdoutPath, string stderrPath)
    {
        var attr = Marshal.AllocHGlobal(Libc.SpawnAttrSize);
        var actions = Marshal.AllocHGlobal(Libc.FileActionsSize);
        var sigdef = Marshal.AllocHGlobal(Libc.SigSetSize);
        var sigmask = Marshal.AllocHGlobal(Libc.SigSetSize);
        var argvPtr = ToNullTerminated(argv);
        var envPtr = ToNullTerminated(env.Select(kv => kv.Key + "=" + kv.Value).ToList());
        try
        {
            Check(Libc.posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try
            {
                _ = Libc.sigfillset(sigdef);
                _ = Libc.sigemptyset(sigmask);
                Check(Libc.posix_spawnattr_setsigdefault(attr, sigdef), "setsigdefault");
                Check(Libc.posix_spawnattr_setsigmask(attr, sigmask), "setsigmask");
                Check(Libc.posix_spawnattr_setflags(attr,
                    (short)(Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK)), "setflags");
                Check(Libc.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", Libc.O_RDONLY, 0), "addopen stdin");
                Check(Libc.posix_spawn_file_actions_addopen(actions, 1, stdoutPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, LogFileMode), "addopen stdout");
                Check(Libc.posix_spawn_file_actions_addopen(actions, 2, stderrPath, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, LogFileMode), "addopen stderr");
                Check(Libc.posix_spawn_file_actions_addchdir_np(actions, workingDirectory), "addchdir");
                Check(Libc.posix_spawn(out var pid, path, actions, attr, argvPtr, envPtr), "posix_spawn " + path);
                return pid;
            }
            finally
            {
                _ = Libc.posix_spawn_file_actions_destroy(actions);
                _ = Libc.posix_spawnattr_destroy(attr);
            }
        }
        finally
        {
            Free(argvPtr);
            Free(envPtr);
            Marshal.FreeHGlobal(sigmask);
            Marshal.FreeHGlobal(sigdef);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attr);
        }
    }

    private static void Check(int result, string what)
    {
        // posix_spawn* return the error number instead of setting errno.
        if (result != 0)
        {
            throw new Win32Exception(result, $"{what}: {new Win32Exception(result).Message}");
        }
    }

    private static nint ToNullTerminated(IReadOnlyList<string> values)
    {
        var array = Marshal.AllocHGlobal(nint.Size * (values.Count + 1));
        for (var i = 0; i < values.Count; i++)
        {
            Marshal.WriteIntPtr(array, i * nint.Size, Marshal.StringToCoTaskMemUTF8(values[i]));
        }

        Marshal.WriteIntPtr(array, values.Count * nint.Size, 0);
        return array;
    }

    private static void Free(nint array)
    {
        for (var i = 0; ; i++)
        {
            var p = Marshal.ReadIntPtr(array, i * nint.Size);
            if (p == 0)
            {
                break;
            }

            Marshal.FreeCoTaskMem(p);
        }

        Marshal.FreeHGlobal(array);
    }
}
