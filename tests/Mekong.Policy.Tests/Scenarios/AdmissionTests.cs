using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md "Admission: guarantees, borrowing, limits".</summary>
public class AdmissionTests
{
    private static PolicyHarness Cluster(int nodes = 4)
    {
        var h = new PolicyHarness();
        h.Nodes(nodes, gpus: 8, type: "h100");
        h.Account("uni-a", guarantee: ("h100", 16));
        h.Account("uni-a/vision", guarantee: ("h100", 8));
        h.Account("uni-b");
        h.Account("uni-b/nlp");
        return h;
    }

    [Fact]
    public void A_job_within_every_guarantee_on_its_path_is_guaranteed()
    {
        var h = Cluster();
        var j = h.Submit(Job("train").Gang(1, gpus: 8).In("uni-a/vision"));
        h.Pass().ShouldStart(j).ShouldBeGuaranteed(j);
        Assert.Equal(8, h.AccountView("uni-a").WithinGuarantee["h100"]);
        Assert.False(h.Job(j).Borrowing);
    }

    [Fact]
    public void A_job_past_its_project_guarantee_borrows()
    {
        var h = Cluster();
        var first = h.Submit(Job("first").Gpus(8).In("uni-a/vision"));
        var second = h.Submit(Job("second").Gpus(8).In("uni-a/vision"));
        h.Pass().ShouldStart(first, second).ShouldBeGuaranteed(first).ShouldBorrow(second);
    }

    [Fact]
    public void A_project_without_guarantee_borrows_even_under_an_organisation_with_one()
    {
        var h = Cluster();
        h.Account("uni-a/robots");
        var j = h.Submit(Job("r").Gpus(4).In("uni-a/robots"));
        h.Pass().ShouldStart(j).ShouldBorrow(j);
    }

    [Fact]
    public void A_job_that_is_not_preemptible_does_not_borrow()
    {
        var h = Cluster();
        var inside = h.Submit(Job("inside").Gpus(8).In("uni-a/vision").NotPreemptible());
        var outside = h.Submit(Job("outside").Gpus(8).In("uni-a/vision").NotPreemptible());
        h.Pass().ShouldStart(inside);
        var why = h.Explain(outside);
        Assert.Equal(PendingReasonKind.QuotaLimit, why.Reason);
        Assert.True(why.CannotBorrow);
        Assert.Equal("uni-a/vision", why.Account);
        Assert.Equal((8, 8), (why.Held, why.Cap));
    }

    [Theory]
    [InlineData("org/dept/proj")]
    [InlineData("org/dept")]
    [InlineData("org")]
    public void A_limit_on_any_account_of_the_path_stops_the_job(string limited)
    {
        var h = new PolicyHarness();
        h.Nodes(8, gpus: 8);
        foreach (var path in new[] { "org", "org/dept", "org/dept/proj" })
            h.Account(path, limit: path == limited ? ("h100", 32) : null);
        h.DefaultProject = "org/dept/proj";
        var running = h.SubmitMany(4, i => Job($"r{i}").Gpus(8));
        var blocked = h.Submit(Job("fifth").Gpus(8));
        h.Pass().ShouldStart(running);
        var why = h.Explain(blocked);
        Assert.Equal(PendingReasonKind.QuotaLimit, why.Reason);
        Assert.Equal(limited, why.Account);
        Assert.Equal((32, 32, 8L), (why.Held, why.Cap, why.Requested));
        Assert.False(why.CannotBorrow);
        Assert.Equal($"quota-limit: {limited} at 32/32 h100, job needs 8", why.Message);
    }

    [Fact]
    public void A_limit_counts_borrowed_and_guaranteed_gpus_alike()
    {
        var h = new PolicyHarness();
        h.Nodes(4, gpus: 8);
        h.Account("org", guarantee: ("h100", 8), limit: ("h100", 16));
        h.Account("org/p", guarantee: ("h100", 8));
        var inside = h.Submit(Job("inside").Gpus(8).In("org/p"));
        var borrow = h.Submit(Job("borrow").Gpus(8).In("org/p"));
        var over = h.Submit(Job("over").Gpus(1).In("org/p"));
        h.Pass().ShouldStart(inside, borrow);
        Assert.Equal(PendingReasonKind.QuotaLimit, h.Explain(over).Reason);
        Assert.Equal("org", h.Explain(over).Account);
    }

    [Fact]
    public void A_job_that_fits_the_limit_exactly_starts()
    {
        var h = new PolicyHarness();
        h.Nodes(2, gpus: 8);
        h.Account("org", limit: ("h100", 12));
        h.Account("org/p");
        var a = h.Submit(Job("a").Gpus(8).In("org/p"));
        var b = h.Submit(Job("b").Gpus(4).In("org/p"));
        var c = h.Submit(Job("c").Gpus(1).In("org/p"));
        h.Pass().ShouldStart(a, b);
        Assert.Equal(PendingReasonKind.QuotaLimit, h.Explain(c).Reason);
        // When a finishes, the limit has room again.
        h.Finish(a);
        h.Pass().ShouldStart(c);
    }

    [Fact]
    public void Children_guarantees_may_not_exceed_the_parents_and_a_rejected_change_changes_nothing()
    {
        var h = new PolicyHarness();
        h.Account("org", guarantee: ("h100", 16));
        h.Account("org/a", guarantee: ("h100", 10));
        Assert.Throws<PolicyException>(() => h.Account("org/b", guarantee: ("h100", 7)));
        Assert.DoesNotContain(h.Engine.Accounts(), a => a.Path == "org/b");
        Assert.Throws<PolicyException>(() => h.Account("org", guarantee: ("h100", 8)));
        Assert.Equal(16, h.AccountView("org").Spec!.Guarantee["h100"]);
        h.Account("org/b", guarantee: ("h100", 6));
    }

    [Fact]
    public void Jobs_go_to_projects_not_organisations()
    {
        var h = Cluster();
        Assert.Throws<PolicyException>(() => h.Submit(Job("j").Gpus(1).In("uni-a")));
        Assert.Throws<PolicyException>(() => h.Submit(Job("j").Gpus(1).In("nowhere/p")));
    }

    [Fact]
    public void A_held_job_waits_with_reason_held_until_released()
    {
        var h = Cluster();
        var j = h.Submit(Job("j").Gpus(1).In("uni-b/nlp"));
        h.Hold(j);
        h.Pass().ShouldStartNothing();
        Assert.Equal(PendingReasonKind.Held, h.Explain(j).Reason);
        h.Release(j);
        h.Pass().ShouldStart(j);
    }

    [Fact]
    public void A_borrower_that_fits_its_guarantee_again_is_promoted()
    {
        var h = Cluster();
        var inside = h.Submit(Job("inside").Gpus(8).In("uni-a/vision"));
        var borrow = h.Submit(Job("borrow").Gpus(8).In("uni-a/vision"));
        h.Pass().ShouldStart(inside, borrow).ShouldBorrow(borrow);
        h.Finish(inside);
        Assert.False(h.Job(borrow).Borrowing);
        Assert.Equal(8, h.AccountView("uni-a/vision").WithinGuarantee["h100"]);
    }
}
