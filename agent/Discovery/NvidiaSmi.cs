using System.Diagnostics;
using System.Globalization;
using Mekong.Api.V1;

namespace Mekong.Agent.Discovery;

/// <summary>GPU facts from nvidia-smi's CSV queries (no NVML binding: the tool is on every GPU node).</summary>
public static class NvidiaSmi
{
    /// <summary>The query used for discovery; driver_version is appended to the brief's four fields.</summary>
    public const string GpuQuery = "--query-gpu=index,uuid,name,memory.total,driver_version";

    /// <summary>Per-GPU utilisation, memory in use and power.</summary>
    public const string UtilizationQuery = "--query-gpu=index,utilization.gpu,memory.used,power.draw";

    /// <summary>Per-process GPU memory, to attribute it to jobs.</summary>
    public const string ComputeAppsQuery = "--query-compute-apps=pid,gpu_uuid,used_memory";

    /// <summary>Runs nvidia-smi with a query and CSV output; null when it is not installed or fails.</summary>
    public static string? Query(string executable, string query, TimeSpan? timeout = null)
    {
        var path = FindExecutable(executable);
        if (path is null)
        {
            return null;
        }

        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(query);
        start.ArgumentList.Add("--format=csv,noheader,nounits");
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
            {
                process.Kill();
                return null;
            }

            return process.ExitCode == 0 ? output.GetAwaiter().GetResult() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Parses the discovery query's lines ("0, GPU-…, NVIDIA H100 80GB HBM3, 81559, 550.54.15").</summary>
    public static (List<Gpu> Gpus, string DriverVersion) ParseGpus(string csv, string? gpuType)
    {
        var gpus = new List<Gpu>();
        var driver = "";
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 4 || !uint.TryParse(f[0], CultureInfo.InvariantCulture, out var index))
            {
                continue;
            }

            var mib = ulong.TryParse(f[3], CultureInfo.InvariantCulture, out var m) ? m : 0;
            gpus.Add(new Gpu
            {
                Index = index,
                Uuid = f[1],
                Model = f[2],
                MemoryBytes = mib * 1024 * 1024,
                GpuType = string.IsNullOrEmpty(gpuType) ? GpuTypes.FromModel(f[2]) : gpuType,
                Healthy = true,
            });
            if (f.Length > 4)
            {
                driver = f[4];
            }
        }

        return (gpus, driver);
    }

    /// <summary>Parses the utilisation query: index → (percent, bytes used, watts).</summary>
    public static Dictionary<uint, GpuUsage> ParseUtilization(string csv)
    {
        var result = new Dictionary<uint, GpuUsage>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 4 || !uint.TryParse(f[0], CultureInfo.InvariantCulture, out var index))
            {
                continue;
            }

            result[index] = new GpuUsage
            {
                Index = index,
                UtilizationPercent = float.TryParse(f[1], CultureInfo.InvariantCulture, out var u) ? u : 0,
                MemoryUsedBytes = ulong.TryParse(f[2], CultureInfo.InvariantCulture, out var mib) ? mib * 1024 * 1024 : 0,
                PowerWatts = float.TryParse(f[3], CultureInfo.InvariantCulture, out var w) ? w : 0,
            };
        }

        return result;
    }

    /// <summary>Parses the compute-apps query: (pid, GPU uuid, bytes used) per line.</summary>
    public static List<(int Pid, string Uuid, ulong Bytes)> ParseComputeApps(string csv)
    {
        var result = new List<(int, string, ulong)>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length >= 3 && int.TryParse(f[0], CultureInfo.InvariantCulture, out var pid))
            {
                result.Add((pid, f[1], ulong.TryParse(f[2], CultureInfo.InvariantCulture, out var mib) ? mib * 1024 * 1024 : 0));
            }
        }

        return result;
    }

    /// <summary>A path, or the first match on PATH; null when absent.</summary>
    public static string? FindExecutable(string name, string? pathVariable = null)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutable(name) ? name : null;
        }

        foreach (var dir in (pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
