using Google.Protobuf.WellKnownTypes;
using Mekong.Agent.Discovery;
using Mekong.Agent.Execution;
using Mekong.Agent.Native;
using Mekong.Api.V1;

namespace Mekong.Agent.Usage;

/// <summary>
/// One usage sample per running job: CPU seconds and resident memory from its control group (or, without
/// one, summed over its process group in /proc), and where nvidia-smi is present the utilisation, memory
/// and power of the GPUs it holds (GPUs are given whole, so a GPU's utilisation is its job's; device
/// memory is attributed to the job's own pids where nvidia-smi lists them).
/// </summary>
public sealed class UsageSampler
{
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<uint, string> _uuids;
    private readonly bool _gpuQueries;

    public UsageSampler(AgentOptions options, NodeInventory inventory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inventory);
        _options = options;
        _time = time;
        _uuids = inventory.Gpus.ToDictionary(g => g.Index, g => g.Uuid);
        _gpuQueries = options.SimulateGpus is null && inventory.Gpus.Count > 0;
    }

    public UsageReport Sample(IEnumerable<JobInstance> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var running = jobs.Where(j => !j.IsFinished).ToList();
        var report = new UsageReport();
        if (running.Count == 0)
        {
            return report;
        }

        var utilization = _gpuQueries && NvidiaSmi.Query(_options.NvidiaSmi, NvidiaSmi.UtilizationQuery) is { } u ? NvidiaSmi.ParseUtilization(u) : [];
        var apps = _gpuQueries && NvidiaSmi.Query(_options.NvidiaSmi, NvidiaSmi.ComputeAppsQuery) is { } a ? NvidiaSmi.ParseComputeApps(a) : [];
        var now = Timestamp.FromDateTimeOffset(_time.GetUtcNow());
        foreach (var job in running)
        {
            var sample = new UsageSample { JobId = job.JobId, Attempt = job.Attempt, Time = now };
            var pids = new HashSet<int>();
            if (job is ProcessJob process)
            {
                if (process.Cgroup.IsReal && process.Cgroup.Usage() is { } usage)
                {
                    sample.CpuSeconds = usage.CpuSeconds;
                    sample.MemoryBytes = usage.MemoryBytes;
                    pids.UnionWith(process.Cgroup.Pids());
                }
                else
                {
                    var group = ProcInfo.ProcessGroup(process.Pid);
                    sample.CpuSeconds = group.Sum(p => p.UserTicks + p.SystemTicks) / (double)Libc.ClockTicks;
                    sample.MemoryBytes = (ulong)(group.Sum(p => p.RssPages) * Libc.PageSize);
                    pids.UnionWith(group.Select(p => p.Pid));
                }
            }

            foreach (var index in job.Gpus)
            {
                if (!utilization.TryGetValue(index, out var gpu))
                {
                    continue;
                }

                var usage = gpu.Clone();
                var uuid = _uuids.GetValueOrDefault(index);
                var own = apps.Where(x => x.Uuid == uuid && pids.Contains(x.Pid)).ToList();
                if (own.Count > 0)
                {
                    usage.MemoryUsedBytes = own.Aggregate(0UL, (sum, x) => sum + x.Bytes);
                }

                sample.Gpus.Add(usage);
            }

            report.Samples.Add(sample);
        }

        return report;
    }
}
