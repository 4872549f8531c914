using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md: a lost node fails its jobs; they go back to pending keeping their original submit time.</summary>
public class NodeFailureTests
{
    private static PolicyHarness Harness() => PolicyHarness.SingleProject();

    [Fact]
    public void Jobs_on_a_lost_node_are_requeued_keeping_their_original_submit_order()
    {
        var h = Harness();
        h.Node("n1", 8);
        h.Node("n2", 8);
        var early = h.Submit(Job("early").Gpus(8));
        h.Pass().ShouldStart(early);
        Assert.Equal(["n1"], h.NodesOf(early));
        h.Advance(TimeSpan.FromHours(1));
        h.Drain("n2");
        var later = h.Submit(Job("later").Gpus(8));
        h.Pass().ShouldStartNothing();
        h.Resume("n2");

        var lost = h.NodeDown("n1");
        Assert.Equal([new LostJob(early, true)], lost);
        Assert.True(h.IsPending(early));
        Assert.Equal(0, h.Job(early).PreemptionCount);
        // Only n2 remains: the job submitted first goes first.
        h.Pass().ShouldStart(early);
        Assert.True(h.IsPending(later));
    }

    [Fact]
    public void A_job_that_opted_out_of_requeue_is_gone()
    {
        var h = Harness();
        h.Node("n1", 8);
        var once = h.Submit(Job("once").Gpus(4).NoRequeue());
        var again = h.Submit(Job("again").Gpus(4));
        h.Pass().ShouldStart(once, again);
        var lost = h.NodeDown("n1");
        Assert.Equal([new LostJob(once, false), new LostJob(again, true)], lost.OrderBy(l => l.Job));
        Assert.Null(h.Engine.GetJob(once));
        Assert.True(h.IsPending(again));
    }

    [Fact]
    public void A_gang_loses_all_its_nodes_when_one_goes_down()
    {
        var h = Harness();
        h.Nodes(3, gpus: 8);
        var gang = h.Submit(Job("gang").Gang(2, gpus: 8));
        h.Pass().ShouldStart(gang);
        var nodes = h.NodesOf(gang);
        h.NodeDown(nodes[0]);
        Assert.True(h.IsPending(gang));
        Assert.Equal(8, h.NodeView(nodes[1]).FreeGpus);
        // Two nodes are still up: the gang starts again on them.
        h.Pass().ShouldStart(gang);
        Assert.DoesNotContain(nodes[0], h.NodesOf(gang));
    }

    [Fact]
    public void A_lost_node_frees_the_accounts_holdings()
    {
        var h = new PolicyHarness();
        h.Node("n1", 8);
        h.Account("org", limit: ("h100", 8));
        h.Account("org/p");
        var j = h.Submit(Job("j").Gpus(8).In("org/p"));
        h.Pass().ShouldStart(j);
        h.NodeDown("n1");
        Assert.Equal(0, h.AccountView("org").Used.GetValueOrDefault("h100"));
        h.Node("n1", 8);
        h.Pass().ShouldStart(j);
    }

    [Fact]
    public void A_cancelled_job_whose_node_goes_down_before_it_ends_stays_cancelled()
    {
        var h = Harness();
        h.Node("n1", 8);
        h.Node("n2", 8);
        var j = h.Submit(Job("j").Gpus(8));
        h.Pass().ShouldStart(j);
        Assert.Equal(CancelOutcome.Stopping, h.Cancel(j));
        var lost = h.NodeDown(h.NodesOf(j)[0]);
        Assert.Equal([new LostJob(j, false)], lost);
        Assert.Null(h.Engine.GetJob(j));
        h.Pass().ShouldStartNothing();
    }

    [Fact]
    public void A_preempted_victim_whose_node_goes_down_is_requeued()
    {
        var h = new PolicyHarness();
        h.Node("n1", 8);
        h.Account("a", guarantee: ("h100", 8));
        h.Account("a/p", guarantee: ("h100", 8));
        h.Account("b");
        h.Account("b/p");
        var victim = h.Submit(Job("victim").Gpus(8).In("b/p").NoRequeue());
        h.Pass().ShouldStart(victim);
        h.Submit(Job("a").Gpus(8).In("a/p"));
        h.Pass().ShouldPreempt(victim);
        h.NodeDown("n1");
        Assert.True(h.IsPending(victim));
    }
}
