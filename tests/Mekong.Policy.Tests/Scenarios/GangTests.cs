using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md "Placement": multi-node jobs are gangs, all nodes or none, one block preferred, then the fewest.</summary>
public class GangTests
{
    private static PolicyHarness Harness() => PolicyHarness.SingleProject();

    [Fact]
    public void A_gang_starts_in_one_block_when_one_can_hold_it()
    {
        var h = Harness();
        h.Nodes(2, gpus: 8, block: "b1");
        h.Nodes(3, gpus: 8, block: "b2");
        h.Nodes(2, gpus: 8, block: "b3");
        var g = h.Submit(Job("g").Gang(3, gpus: 8));
        h.Pass().ShouldStart(g);
        Assert.Equal(["b2"], h.BlocksOf(g));
    }

    [Fact]
    public void A_small_gang_takes_the_smallest_block_that_fits_and_keeps_big_blocks_whole()
    {
        var h = Harness();
        h.Nodes(4, gpus: 8, block: "big");
        h.Nodes(2, gpus: 8, block: "small");
        var g = h.Submit(Job("g").Gang(2, gpus: 8));
        h.Pass().ShouldStart(g);
        Assert.Equal(["small"], h.BlocksOf(g));
        var wide = h.Submit(Job("wide").Gang(4, gpus: 8));
        h.Pass().ShouldStart(wide);
        Assert.Equal(["big"], h.BlocksOf(wide));
    }

    [Fact]
    public void When_no_block_holds_it_a_gang_spans_the_fewest_blocks()
    {
        var h = Harness();
        h.Nodes(2, gpus: 8, block: "b1");
        h.Nodes(2, gpus: 8, block: "b2");
        h.Nodes(3, gpus: 8, block: "b3");
        h.Nodes(1, gpus: 8, block: "b4");
        var g = h.Submit(Job("g").Gang(5, gpus: 8));
        h.Pass().ShouldStart(g);
        var blocks = h.BlocksOf(g);
        Assert.Equal(2, blocks.Count);
        Assert.Contains("b3", blocks);
    }

    [Fact]
    public void A_gang_starts_with_all_its_nodes_or_not_at_all()
    {
        var h = Harness();
        h.Nodes(3, gpus: 8);
        var filler = h.Submit(Job("filler").Gpus(1).Walltime(hours: 2));
        h.Pass().ShouldStart(filler);
        var g = h.Submit(Job("g").Gang(3, gpus: 8));
        h.Pass().ShouldStartNothing();
        Assert.Empty(h.Job(g).Allocations);
        Assert.Equal(23, h.Engine.Nodes().Sum(n => n.FreeGpus));
        var why = h.Explain(g);
        Assert.Equal(PendingReasonKind.Reserved, why.Reason);
        Assert.Equal(h.Job(filler).Started + TimeSpan.FromHours(2), why.EstimatedStart);
    }

    [Fact]
    public void A_gang_waits_for_a_whole_block_to_free_up_rather_than_taking_partial_nodes()
    {
        var h = Harness();
        h.Nodes(2, gpus: 8, block: "b1");
        h.Nodes(2, gpus: 8, block: "b2");
        // One GPU busy on every node: no node can hold 8.
        var busy = h.SubmitMany(4, i => Job($"busy{i}").Gpus(7).Walltime(hours: 1 + i));
        h.Pass().ShouldStart(busy);
        var g = h.Submit(Job("g").Gang(2, gpus: 8).Walltime(hours: 4));
        h.Pass().ShouldStartNothing();
        // busy0..3 sit on n01..n04 and end after 1..4 hours: b1 is whole after 2 hours, before any two-block choice.
        Assert.Equal(["n01", "n02", "n03", "n04"], busy.Select(b => h.NodesOf(b)[0]));
        var why = h.Explain(g);
        Assert.Equal(PendingReasonKind.Reserved, why.Reason);
        Assert.Equal(h.Now + TimeSpan.FromHours(2), why.EstimatedStart);
        Assert.Equal(["n01", "n02"], h.LastPlan!.ReservationOf(g).Nodes);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(busy[0]);
        h.Pass().ShouldStartNothing();
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(busy[1]);
        h.Pass().ShouldStart(g);
        Assert.Equal(["b1"], h.BlocksOf(g));
    }

    [Fact]
    public void A_gang_of_one_gpu_per_node_uses_distinct_nodes()
    {
        var h = Harness();
        h.Nodes(3, gpus: 8);
        var g = h.Submit(Job("g").Gang(3, gpus: 1));
        h.Pass().ShouldStart(g);
        Assert.Equal(3, h.NodesOf(g).Distinct().Count());
    }

    [Fact]
    public void A_gang_on_a_down_node_type_reports_how_many_nodes_are_up()
    {
        var h = Harness();
        h.Nodes(3, gpus: 8);
        h.NodeDown("n01");
        h.NodeDown("n02");
        var g = h.Submit(Job("g").Gang(2, gpus: 8));
        h.Pass().ShouldStartNothing();
        var why = h.Explain(g);
        Assert.Equal(PendingReasonKind.NodeTypeUnavailable, why.Reason);
        Assert.Equal((1, 2), (why.Held, why.Cap));
    }
}
