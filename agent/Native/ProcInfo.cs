using System.Globalization;

namespace Mekong.Agent.Native;

/// <summary>What /proc tells about a process.</summary>
internal readonly record struct ProcStat(int Pid, char State, int ProcessGroup, long UserTicks, long SystemTicks, long StartTicks, long RssPages);

/// <summary>Reads /proc: a process's identity (pid plus start time, which survives pid reuse) and usage.</summary>
internal static class ProcInfo
{
    /// <summary>/proc/PID/stat, or null when the process does not exist.</summary>
    public static ProcStat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return Parse(text);
    }

    /// <summary>Parses a /proc/PID/stat line; the command name may hold spaces and parentheses.</summary>
    public static ProcStat? Parse(string text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var pid = int.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        // Fields after the command, numbered as in proc(5): 3 state, 5 pgrp, 14 utime, 15 stime, 22 starttime, 24 rss.
        var f = text[(close + 2)..].Split(' ');
        long L(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture);
        return new ProcStat(pid, f[0][0], (int)L(5), L(14), L(15), L(22), L(24));
    }

    /// <summary>Whether the process is alive (not gone, not a zombie) and is the same one (same start time).</summary>
    public static bool IsAlive(int pid, long startTicks) =>
        Read(pid) is { } s && s.StartTicks == startTicks && s.State is not ('Z' or 'X');

    /// <summary>Every live process of a process group (the no-cgroup fallback for usage and killing).</summary>
    public static List<ProcStat> ProcessGroup(int pgid)
    {
        var result = new List<ProcStat>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Read(pid) is { } s && s.ProcessGroup == pgid && s.State is not ('Z' or 'X'))
            {
                result.Add(s);
            }
        }

        return result;
    }
}
