using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md "Placement" (single-node jobs, node states, GPU types).</summary>
public class PlacementTests
{
    private static PolicyHarness Harness() => PolicyHarness.SingleProject();

    /// <summary>Nodes with 8, 2, 4 and 6 GPUs free: best fit takes the fullest node that still fits.</summary>
    [Theory]
    [InlineData(1, "n2")]
    [InlineData(2, "n2")]
    [InlineData(3, "n3")]
    [InlineData(4, "n3")]
    [InlineData(5, "n4")]
    [InlineData(7, "n1")]
    [InlineData(8, "n1")]
    public void Single_node_jobs_go_to_the_best_fitting_node(int gpus, string expected)
    {
        var h = Harness();
        h.Node("n1", 8);
        h.Node("n2", 8);
        h.Node("n3", 8);
        h.Node("n4", 8);
        foreach (var (node, used) in new[] { ("n2", 6), ("n3", 4), ("n4", 2) })
        {
            // Only the target node takes the filler.
            foreach (var other in new[] { "n1", "n2", "n3", "n4" }.Where(n => n != node)) h.Drain(other);
            var filler = h.Submit(Job($"fill-{node}").Gpus(used));
            h.Pass().ShouldStart(filler);
            foreach (var other in new[] { "n1", "n2", "n3", "n4" }.Where(n => n != node)) h.Resume(other);
        }
        var j = h.Submit(Job("j").Gpus(gpus));
        h.Pass().ShouldStart(j);
        Assert.Equal([expected], h.NodesOf(j));
    }

    [Fact]
    public void Whole_nodes_stay_free_for_large_jobs()
    {
        var h = Harness();
        h.Nodes(2, gpus: 8);
        var smalls = h.SubmitMany(8, i => Job($"s{i}").Gpus(1));
        h.Pass().ShouldStart(smalls);
        Assert.Single(smalls.SelectMany(h.NodesOf).Distinct());
        var big = h.Submit(Job("big").Gpus(8));
        h.Pass().ShouldStart(big);
    }

    [Fact]
    public void A_job_never_gets_a_gpu_of_another_type()
    {
        var h = Harness();
        h.Node("h1", 8, type: "h100");
        h.Node("a1", 8, type: "a100");
        var a = h.Submit(Job("a").Gpus(8, "a100"));
        var a2 = h.Submit(Job("a2").Gpus(1, "a100"));
        h.Pass().ShouldStart(a);
        Assert.Equal(["a1"], h.NodesOf(a));
        Assert.True(h.IsPending(a2));
        // The top blocked job is reserved on the a100 node, from the end of a's walltime.
        Assert.Equal(PendingReasonKind.Reserved, h.Explain(a2).Reason);
        Assert.Equal(h.Now + TimeSpan.FromHours(1), h.Explain(a2).EstimatedStart);
        Assert.Equal(8, h.NodeView("h1").FreeGpus);
    }

    [Fact]
    public void A_job_of_any_type_takes_whatever_fits()
    {
        var h = Harness();
        h.Node("a1", 4, type: "a100");
        h.Node("h1", 8, type: "h100");
        var j = h.Submit(Job("j").Gpus(6).AnyType());
        h.Pass().ShouldStart(j);
        Assert.Equal("h100", h.Job(j).GpuType);
        Assert.Equal(["h1"], h.NodesOf(j));
    }

    [Fact]
    public void A_type_no_node_has_is_node_type_unavailable()
    {
        var h = Harness();
        h.Nodes(1, gpus: 8, type: "h100");
        var j = h.Submit(Job("j").Gpus(1, "b200"));
        h.Pass().ShouldStartNothing();
        var why = h.Explain(j);
        Assert.Equal(PendingReasonKind.NodeTypeUnavailable, why.Reason);
        Assert.Equal("b200", why.GpuType);
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(3, 8)]
    public void A_shape_the_cluster_can_never_hold_is_unsatisfiable(int nodes, int gpusPerNode)
    {
        var h = Harness();
        h.Nodes(2, gpus: 8);
        var j = h.Submit(Job("j").Gang(nodes, gpusPerNode));
        h.Pass().ShouldStartNothing();
        Assert.Equal(PendingReasonKind.Unsatisfiable, h.Explain(j).Reason);
    }

    [Fact]
    public void A_drained_node_takes_nothing_new_but_keeps_its_running_jobs()
    {
        var h = Harness();
        h.Node("n1", 8);
        var running = h.Submit(Job("running").Gpus(4));
        h.Pass().ShouldStart(running);
        h.Drain("n1");
        var next = h.Submit(Job("next").Gpus(2));
        h.Pass().ShouldStartNothing();
        Assert.True(h.IsRunning(running));
        Assert.Equal(NodeState.Draining, h.NodeView("n1").State);
        Assert.Equal(PendingReasonKind.NodeTypeUnavailable, h.Explain(next).Reason);
        h.Resume("n1");
        h.Pass().ShouldStart(next);
    }

    [Fact]
    public void A_down_node_takes_nothing_until_it_is_up_again()
    {
        var h = Harness();
        h.Node("n1", 8);
        h.Node("n2", 8);
        h.NodeDown("n2");
        var jobs = h.Submit(Job("a").Gpus(8), Job("b").Gpus(8));
        h.Pass().ShouldStart(jobs[0]);
        h.Node("n2", 8);
        h.Pass().ShouldStart(jobs[1]);
        Assert.Equal(["n2"], h.NodesOf(jobs[1]));
    }

    [Fact]
    public void Cpu_and_memory_are_respected_beside_gpus()
    {
        var h = Harness();
        h.Node("n1", 8, cpu: 64, memoryMb: 512_000);
        h.Node("n2", 8, cpu: 64, memoryMb: 512_000);
        var a = h.Submit(Job("a").Gpus(1).Cpu(48));
        var b = h.Submit(Job("b").Gpus(1).Cpu(48));
        var c = h.Submit(Job("c").Gpus(1).MemoryMb(400_000));
        var d = h.Submit(Job("d").Gpus(1).MemoryMb(400_000));
        h.Pass().ShouldStart(a, b, c, d);
        Assert.NotEqual(h.NodesOf(a), h.NodesOf(b));
        Assert.NotEqual(h.NodesOf(c), h.NodesOf(d));
        var e = h.Submit(Job("e").Gpus(1).Cpu(20));
        h.Pass().ShouldStartNothing();
        Assert.Equal(PendingReasonKind.Reserved, h.Explain(e).Reason);
    }

    [Fact]
    public void Gpu_indices_are_distinct_and_reported_as_a_mask()
    {
        var h = Harness();
        h.Node("n1", 8);
        var a = h.Submit(Job("a").Gpus(3));
        var b = h.Submit(Job("b").Gpus(5));
        var plan = h.Pass().ShouldStart(a, b);
        var ia = plan.StartOf(a).Allocations[0].GpuIndices;
        var ib = plan.StartOf(b).Allocations[0].GpuIndices;
        Assert.Equal(8, ia.Concat(ib).Distinct().Count());
    }
}
