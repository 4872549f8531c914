using Mekong.Simulation.Metrics;
using Mekong.Simulation.Setup;
using Mekong.Simulation.Trace;

namespace Mekong.Simulation.Tests;

/// <summary>Runs a hand-made trace (CSV rows without the header) through the simulator.</summary>
internal static class Replay
{
    public static IReadOnlyList<TraceJob> Trace(params string[] rows) =>
        TraceReader.Read(new StringReader(TraceReader.Header + "\n" + string.Join("\n", rows) + "\n"), "test.csv");

    public static SimulationResult Run(IReadOnlyList<TraceJob> trace, int gpus, ReplayPolicy policy = ReplayPolicy.Mekong,
        string? accountsYaml = null, long checkpointEveryS = 0, WalltimeModel walltime = WalltimeModel.Roundup, Policy.PolicySettings? settings = null)
    {
        var cluster = ClusterSpec.FromGpuCount(gpus);
        var accounts = accountsYaml is null ? AccountPlan.Auto(trace, cluster) : AccountPlan.FromYaml(accountsYaml, "accounts.yaml", trace);
        return Simulator.Run(trace, cluster, accounts, new SimulationOptions
        {
            Name = policy.ToString().ToLowerInvariant(),
            Policy = policy,
            CheckpointEveryS = checkpointEveryS,
            Walltime = walltime,
            Settings = settings ?? new Policy.PolicySettings(),
        });
    }

    public static JobOutcome Job(this SimulationResult result, string id) => result.Outcomes.Single(o => o.JobId == id);
}
