namespace Mekong.Integration.Tests.Harness;

/// <summary>Removes what a test's agents left in the control group hierarchies (a SIGKILLed agent leaves its job running).</summary>
internal static class Cgroups
{
    public static void RemoveTree(string parent)
    {
        var root = "/sys/fs/cgroup";
        if (!Directory.Exists(root)) return;
        foreach (var hierarchy in Directory.GetDirectories(root))
        {
            var top = Path.Combine(hierarchy, parent);
            if (!Directory.Exists(top)) continue;
            try
            {
                foreach (var procs in Directory.GetFiles(top, "cgroup.procs", SearchOption.AllDirectories))
                {
                    foreach (var line in File.ReadAllLines(procs))
                    {
                        if (int.TryParse(line, out var pid)) Kill(pid);
                    }
                }

                var dirs = Directory.GetDirectories(top, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(top);
                foreach (var dir in dirs)
                {
                    for (var i = 0; i < 40 && Directory.Exists(dir); i++)
                    {
                        try
                        {
                            Directory.Delete(dir);
                        }
                        catch (IOException)
                        {
                            Thread.Sleep(25); // its processes are still exiting
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a group that cannot be removed now is harmless.
            }
        }
    }

    public static void Kill(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            p.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }
}
