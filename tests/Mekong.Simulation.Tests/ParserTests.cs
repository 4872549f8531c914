using Mekong.Simulation.Setup;
using Mekong.Simulation.Trace;

namespace Mekong.Simulation.Tests;

public class ParserTests
{
    private static SimulationInputException ReadBad(string text) =>
        Assert.Throws<SimulationInputException>(() => TraceReader.Read(new StringReader(text), "t.csv"));

    [Fact]
    public void A_trace_is_read_in_submit_order_with_ties_in_file_order()
    {
        var jobs = Replay.Trace("b,x,u,5,10,1,,,", "a,y,u,0,10,16,2,h100,Pass", "c,x,u,5,1.2,4,1,,");

        Assert.Equal(["a", "b", "c"], jobs.Select(j => j.JobId));
        Assert.Equal(new TraceJob("a", "y", "u", 0, 10, 16, 2, "h100"), jobs[0]);
        Assert.Equal(2, jobs[2].DurationS); // fractional seconds round up
    }

    [Theory]
    [InlineData("job,tenant\n", "t.csv:1: header")]
    [InlineData("", "t.csv: empty file")]
    [InlineData(TraceReader.Header + "\n", "has no jobs")]
    [InlineData(TraceReader.Header + "\nj,t,u,0,10,1,1,\n", "t.csv:2: 8 columns, expected 9")]
    [InlineData(TraceReader.Header + "\nj,t,u,0,10,1,1,,,\n", "t.csv:2: more than 9 columns")]
    [InlineData(TraceReader.Header + "\nok,t,u,0,10,1,1,,\nj,t,u,0,10,two,1,,\n", "t.csv:3: gpus 'two'")]
    [InlineData(TraceReader.Header + "\nj,t,u,0,10,0,1,,\n", "t.csv:2: gpus '0'")]
    [InlineData(TraceReader.Header + "\nj,t,u,-5,10,1,1,,\n", "t.csv:2: submit_s '-5'")]
    [InlineData(TraceReader.Header + "\nj,t,u,0,0,1,1,,\n", "t.csv:2: duration_s '0'")]
    [InlineData(TraceReader.Header + "\nj,,u,0,10,1,1,,\n", "t.csv:2: tenant is empty")]
    [InlineData(TraceReader.Header + "\nj,t,u,0,10,1,1,,\nj,t,u,0,10,1,1,,\n", "t.csv:3: job_id 'j' appears twice")]
    [InlineData(TraceReader.Header + "\nj,t,u,0,10,2,4,,\n", "t.csv:2: nodes 4 is more than gpus 2")]
    [InlineData(TraceReader.Header + "\n\"j\",t,u,0,10,1,1,,\n", "t.csv:2: quoted")]
    public void Bad_trace_rows_are_rejected_with_their_line(string text, string expected) =>
        Assert.Contains(expected, ReadBad(text).Message, StringComparison.Ordinal);

    [Fact]
    public void A_cluster_yaml_gives_node_groups_types_and_blocks()
    {
        var cluster = ClusterSpec.FromYaml("""
            gpuTypes:
              h100: { weight: 2 }
            nodeGroups:
              - name: h
                gpuType: h100
                nodes: 5
                nodesPerBlock: 2
              - name: a
                gpuType: a100
                nodes: 1
                gpusPerNode: 4
            """, "c.yaml");

        Assert.Equal(44, cluster.TotalGpus);
        Assert.Equal(new Dictionary<string, int> { ["a100"] = 4, ["h100"] = 40 }, cluster.GpusByType);
        Assert.Equal(["h-blk0", "h-blk0", "h-blk1", "h-blk1", "h-blk2", "a-blk0"], cluster.Nodes.Select(n => n.Block));
        Assert.Equal(2, cluster.TypeWeights["h100"]);
    }

    [Theory]
    [InlineData("nodeGroups:\n  - name: h\n    gpuType: h100\n    nodes: 2\n    colour: red\n", "c.yaml:5:")]
    [InlineData("nodeGroups:\n  - name: h\n    gpuType: h100\n    nodes: many\n", "c.yaml:4:")]
    [InlineData("nodeGroups: []\n", "at least one node group")]
    [InlineData("nodeGroups:\n  - name: h\n    nodes: 2\n", "'gpuType' is required")]
    [InlineData("nodeGroups:\n  - name: h\n    gpuType: h100\n    nodes: 2\n    gpusPerNode: 65\n", "'gpusPerNode' must be 1..64")]
    public void Bad_cluster_yaml_is_rejected_clearly(string yaml, string expected) =>
        Assert.Contains(expected, Assert.Throws<SimulationInputException>(() => ClusterSpec.FromYaml(yaml, "c.yaml")).Message, StringComparison.Ordinal);

    [Fact]
    public void Gpu_count_must_make_whole_nodes() =>
        Assert.Contains("multiple of 8", Assert.Throws<SimulationInputException>(() => ClusterSpec.FromGpuCount(12)).Message, StringComparison.Ordinal);

    [Fact]
    public void An_accounts_yaml_maps_tenants_to_projects()
    {
        var trace = Replay.Trace("j1,c01,u,0,10,1,1,,", "j2,vision,u,0,10,1,1,,", "j3,other,u,0,10,1,1,,");
        var plan = AccountPlan.FromYaml("""
            accounts:
              - path: uni
                shares: 3
                guarantee: { gpu: 16 }
              - path: uni/vision
                guarantee: { gpu: 8 }
              - path: uni/nlp
              - path: lab
            tenants:
              c01: uni/nlp
              vision: uni/vision
            default: lab
            """, "a.yaml", trace);

        Assert.Equal("uni/nlp", plan.TenantProjects["c01"]);
        Assert.Equal("uni/vision", plan.TenantProjects["vision"]);
        Assert.Equal("lab", plan.TenantProjects["other"]);
        Assert.Equal(0.75 * 0.5, plan.WeightOf("c01"), 9);
    }

    [Theory]
    [InlineData("accounts:\n  - path: a\ntenants:\n  t: b\n", "maps to 'b', which is not a project")]
    [InlineData("accounts:\n  - path: a\n", "tenant 't' is not mapped")]
    [InlineData("accounts:\n  - path: a/b\n", "parent 'a' must be listed before it")]
    [InlineData("accounts:\n  - path: a\n    shares: lots\n", "a.yaml:3:")]
    public void Bad_accounts_yaml_is_rejected_clearly(string yaml, string expected) =>
        Assert.Contains(expected, Assert.Throws<SimulationInputException>(
            () => AccountPlan.FromYaml(yaml, "a.yaml", Replay.Trace("j,t,u,0,10,1,1,,"))).Message, StringComparison.Ordinal);

    [Fact]
    public void Settings_overrides_change_the_policy_knobs()
    {
        var s = SettingsOverrides.Apply(new Policy.PolicySettings(), ["halfLife=3d", "reservations=32", "maxPreemptions=5", "borrowBeyondFairShare=2", "weight.h100=2.5"]);

        Assert.Equal((TimeSpan.FromDays(3), 32, 5, 2.0, 2.5), (s.UsageHalfLife, s.Reservations, s.MaxPreemptions, s.BorrowBeyondFairShare, s.GpuTypeWeights["h100"]));
        Assert.Equal(0, SettingsOverrides.Apply(new Policy.PolicySettings(), ["borrowBeyondFairShare=0"]).BorrowBeyondFairShare);
        Assert.Throws<SimulationInputException>(() => SettingsOverrides.Apply(new Policy.PolicySettings(), ["borrowBeyondFairShare=-1"]));
        Assert.Equal(0.25, SettingsOverrides.Apply(new Policy.PolicySettings(), ["borrowAnySizeBelowShare=0.25"]).BorrowAnySizeBelowShare);
        Assert.Throws<SimulationInputException>(() => SettingsOverrides.Apply(new Policy.PolicySettings(), ["borrowAnySizeBelowShare=0"]));
        Assert.Throws<SimulationInputException>(() => SettingsOverrides.Apply(new Policy.PolicySettings(), ["colour=red"]));
        Assert.Throws<SimulationInputException>(() => SettingsOverrides.Apply(new Policy.PolicySettings(), ["halfLife=soon"]));
    }
}
