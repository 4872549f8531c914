using System.CommandLine;
using System.Text;
using Mekong.Policy;
using Mekong.Simulation;
using Mekong.Simulation.Metrics;
using Mekong.Simulation.Output;
using Mekong.Simulation.Setup;
using Mekong.Simulation.Trace;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong simulate</c>: replays a recorded workload through the real policy core (or the FIFO
/// baseline) under proposed settings and reports waits, utilisation and fairness, side by side.</summary>
internal static class SimulateVerb
{
    private static readonly Option<FileInfo> Trace = new("--trace") { Description = "trace CSV (job_id,tenant,user,submit_s,duration_s,gpus,nodes,gpu_type,status)", Required = true };
    private static readonly Option<int?> Gpus = new("--gpus") { Description = "cluster of N/8 nodes with 8 GPUs each, topology blocks of 32 nodes" };
    private static readonly Option<FileInfo?> Cluster = new("--cluster") { Description = "cluster YAML (node groups, GPU types, blocks) instead of --gpus" };
    private static readonly Option<string> Accounts = new("--accounts") { Description = "accounts YAML, or 'auto': one project per tenant, guarantees ∝ GPU-hours summing to 80% of the cluster", DefaultValueFactory = _ => "auto" };
    private static readonly Option<string> Walltime = new("--walltime") { Description = "walltime model: exact, x2 or roundup (1h,4h,12h,24h,72h,168h)", DefaultValueFactory = _ => "roundup" };
    private static readonly Option<string> PolicyName = new("--policy") { Description = "mekong (the real core) or fifo (strict FCFS baseline)", DefaultValueFactory = _ => "mekong" };
    private static readonly Option<string[]> Set = new("--set") { Description = "policy setting override key=value (halfLife=3d, reservations=32, maxPreemptions=3, borrowBeyondFairShare=1.5, borrowAnySizeBelowShare=0.5, weight.TYPE=2); repeatable", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<bool> Compare = new("--compare") { Description = "run mekong and fifo side by side" };
    private static readonly Option<string[]> CompareSet = new("--compare-set") { Description = "also run mekong with these overrides on top of --set (key=value, repeatable) and compare" };
    private static readonly Option<string?> CheckpointEvery = new("--checkpoint-every") { Description = "a preempted job keeps progress at multiples of this duration (e.g. 30m)" };
    private static readonly Option<bool> Json = new("--json") { Description = "print one JSON object as the last line of stdout" };
    private static readonly Option<FileInfo?> JobsOut = new("--jobs-out") { Description = "write one CSV row per job (job_id,tenant,submit_s,start_s,end_s,gpus,preemptions); with several runs, FILE gets the run name before its extension" };
    private static readonly Option<FileInfo?> Plot = new("--plot") { Description = "write an SVG chart of the wait-time CDF per run" };

    public static Command Create()
    {
        var command = new Command("simulate", "replay a job trace through the scheduling policy and measure waits, utilisation and fairness");
        foreach (var o in new Option[] { Trace, Gpus, Cluster, Accounts, Walltime, PolicyName, Set, Compare, CompareSet, CheckpointEvery, Json, JobsOut, Plot })
            command.Options.Add(o);
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return Run(parse, output);
        }
        catch (SimulationInputException e)
        {
            error.WriteLine($"mekong simulate: {e.Message}");
            return 2;
        }
        catch (PolicyException e)
        {
            error.WriteLine($"mekong simulate: {e.Message}");
            return 2;
        }
        catch (IOException e)
        {
            error.WriteLine($"mekong simulate: {e.Message}");
            return 2;
        }
    }

    private static int Run(ParseResult parse, TextWriter output)
    {
        var gpus = parse.GetValue(Gpus);
        var clusterFile = parse.GetValue(Cluster);
        if (gpus is null == clusterFile is null) throw new SimulationInputException("give exactly one of --gpus N and --cluster FILE");
        var trace = TraceReader.ReadFile(parse.GetRequiredValue(Trace).FullName);
        var cluster = clusterFile is null ? ClusterSpec.FromGpuCount(gpus!.Value) : ClusterSpec.FromYamlFile(clusterFile.FullName);
        var accountsArg = parse.GetValue(Accounts)!;
        var accounts = string.Equals(accountsArg, "auto", StringComparison.OrdinalIgnoreCase)
            ? AccountPlan.Auto(trace, cluster)
            : AccountPlan.FromYamlFile(accountsArg, trace);

        var settings = SettingsOverrides.Apply(new PolicySettings(), parse.GetValue(Set) ?? []);
        var checkpoint = parse.GetValue(CheckpointEvery) is { } c ? (long)SettingsOverrides.ParseDuration(c, "--checkpoint-every").TotalSeconds : 0;
        var baseOptions = new SimulationOptions
        {
            Walltime = WalltimeModels.Parse(parse.GetValue(Walltime)!),
            Settings = settings,
            CheckpointEveryS = checkpoint,
        };
        var policy = parse.GetValue(PolicyName)!.ToLowerInvariant() switch
        {
            "mekong" => ReplayPolicy.Mekong,
            "fifo" => ReplayPolicy.Fifo,
            var other => throw new SimulationInputException($"--policy '{other}': expected mekong or fifo"),
        };

        var runs = new List<SimulationOptions>();
        if (parse.GetValue(Compare))
        {
            runs.Add(baseOptions with { Name = "mekong", Policy = ReplayPolicy.Mekong });
            runs.Add(baseOptions with { Name = "fifo", Policy = ReplayPolicy.Fifo });
        }
        else
        {
            runs.Add(baseOptions with { Name = policy == ReplayPolicy.Fifo ? "fifo" : "mekong", Policy = policy });
        }
        if (parse.GetValue(CompareSet) is { Length: > 0 } variant)
        {
            runs.Add(baseOptions with
            {
                Name = "mekong+" + string.Join("+", variant),
                Policy = ReplayPolicy.Mekong,
                Settings = SettingsOverrides.Apply(settings, variant),
            });
        }

        var results = runs.Select(o => Simulator.Run(trace, cluster, accounts, o)).ToList();

        if (parse.GetValue(JobsOut) is { } jobsOut)
        {
            if (results.Count == 1) JobsCsv.WriteFile(jobsOut.FullName, results[0]);
            else foreach (var r in results) JobsCsv.WriteFile(WithSuffix(jobsOut.FullName, r.Name), r);
        }
        if (parse.GetValue(Plot) is { } plot)
        {
            var title = $"Wait-time CDF — {Path.GetFileName(parse.GetRequiredValue(Trace).Name)}, {cluster.TotalGpus} GPUs";
            File.WriteAllText(plot.FullName, WaitCdfSvg.Render(results, title), new UTF8Encoding(false));
        }

        output.Write($"trace: {trace.Count} jobs, {trace.Select(j => j.Tenant).Distinct().Count()} tenants; cluster: {cluster.Nodes.Count} nodes, {cluster.TotalGpus} GPUs\n\n");
        output.Write(ResultText.Write(results));
        if (parse.GetValue(Json))
            output.Write((results.Count == 1 ? ResultJson.Write(results[0]) : ResultJson.Write(results)) + "\n");
        return results.Any(r => r.Unfinished > 0) ? 1 : 0;
    }

    private static string WithSuffix(string path, string name)
    {
        var safe = new string([.. name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' or '+' or '.' or '=' ? ch : '_')]);
        var dir = Path.GetDirectoryName(path) ?? "";
        return Path.Combine(dir, Path.GetFileNameWithoutExtension(path) + "." + safe + Path.GetExtension(path));
    }
}
