using System.Globalization;
using Mekong.Agent.Native;

namespace Mekong.Agent.ControlGroups;

/// <summary>One job attempt's control group (in every hierarchy it uses).</summary>
public abstract class JobCgroup
{
    /// <summary>The cgroup.procs files a process writes its pid to, to join the group before it execs the job.</summary>
    public abstract IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>Whether the group is a real one (false for the no-cgroup stand-in).</summary>
    public virtual bool IsReal => true;

    /// <summary>Pids now in the group.</summary>
    public abstract IReadOnlyList<int> Pids();

    /// <summary>CPU time and resident memory of the group; null when unknown.</summary>
    public abstract CgroupUsage? Usage();

    /// <summary>How many times the kernel's OOM killer killed a process of this group.</summary>
    public abstract long OomKills();

    /// <summary>Sends a signal to every process in the group.</summary>
    public virtual void Signal(int signal)
    {
        foreach (var pid in Pids())
        {
            Libc.kill(pid, signal);
        }
    }

    /// <summary>SIGKILLs whatever is left in the group, waits for it to empty, and removes it.</summary>
    public async Task DestroyAsync(CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < 100 && Pids().Count > 0; i++)
        {
            Signal(Libc.SIGKILL);
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < 50; i++)
        {
            if (TryRemove())
            {
                return;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the group's directories; false while processes (or zombies) remain.</summary>
    protected abstract bool TryRemove();

    protected static IReadOnlyList<int> ReadPids(string procsFile)
    {
        try
        {
            return File.ReadAllLines(procsFile)
                .Where(l => l.Length > 0)
                .Select(l => int.Parse(l, CultureInfo.InvariantCulture))
                .ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    protected static long ReadKey(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space > 0 && line.AsSpan(0, space).SequenceEqual(key))
                {
                    return long.Parse(line.AsSpan(space + 1), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    protected static long? ReadLong(string file)
    {
        try
        {
            return long.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            return null;
        }
    }

    protected static bool RemoveDirectory(string path)
    {
        try
        {
            // A cgroup directory holds only kernel files: rmdir, not a recursive delete.
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: false);
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>The group of a job run without control groups.</summary>
public sealed class NoJobCgroup : JobCgroup
{
    public static readonly NoJobCgroup Instance = new();

    public override IReadOnlyList<string> ProcsFiles => [];

    public override bool IsReal => false;

    public override IReadOnlyList<int> Pids() => [];

    public override CgroupUsage? Usage() => null;

    public override long OomKills() => 0;

    protected override bool TryRemove() => true;
}
