using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>Fair-share-aware borrowing (<see cref="PolicySettings.BorrowBeyondFairShare"/>), the borrowing sweep's
/// order by GPUs held over the entitled share, and how reclaim and guarantees keep work from being lost
/// (found by replaying the ITP trace; see docs/policy-quality.md).</summary>
public class FairShareBorrowingTests
{
    /// <summary>Two equal projects without guarantees on two 8-GPU nodes; p runs ten 1-GPU borrowers, q waits
    /// with an 8-GPU job that does not fit the 6 GPUs left. No reservations, so only the borrowing rule decides.</summary>
    private static (PolicyHarness H, JobId[] More, JobId Q) Contended(double factor, double anySize = 0.5, int moreGpus = 1)
    {
        var h = new PolicyHarness(new PolicySettings { BorrowBeyondFairShare = factor, BorrowAnySizeBelowShare = anySize, Reservations = 0 });
        h.Node("n01", gpus: 8);
        h.Node("n02", gpus: 8);
        h.Account("a");
        h.Account("a/p");
        h.Account("b");
        h.Account("b/q");
        h.Drain("n02");
        var first = h.SubmitMany(8, i => Job($"p{i}").In("a/p").Walltime(hours: 2));
        h.Pass().ShouldStart(first);
        h.Resume("n02");
        var second = h.SubmitMany(2, i => Job($"p{8 + i}").In("a/p").Walltime(hours: 2));
        h.Pass().ShouldStart(second);
        var q = h.Submit(Job("q").Gpus(8).In("b/q"));
        var more = h.SubmitMany(4, i => Job($"more{i}").Gpus(moreGpus).In("a/p").Walltime(hours: 2));
        return (h, more, q);
    }

    [Fact]
    public void A_project_at_its_entitled_share_does_not_borrow_while_another_waits_below_its_own()
    {
        // Demand: p 14, q 8 on 16 GPUs: each is entitled to 8. p holds 10 and q nothing.
        var (h, more, q) = Contended(factor: 1.0);
        h.Pass().ShouldStartNothing();
        var why = h.Explain(more[0]);
        Assert.Equal(PendingReasonKind.QuotaLimit, why.Reason);
        Assert.True(why.AtFairShare);
        Assert.Equal(("a/p", 10L, 8L), (why.Account, why.Held, why.Cap));
        Assert.Contains("fair share", why.Message, StringComparison.Ordinal);
        Assert.True(h.IsPending(q));
    }

    [Theory]
    [InlineData(0.0)] // off
    [InlineData(1.5)] // p may hold up to 12 of its 8 before it stops borrowing
    public void BorrowBeyondFairShare_is_a_setting(double factor)
    {
        var (h, more, _) = Contended(factor);
        var plan = h.Pass();
        if (factor == 0) plan.ShouldStart(more);
        else Assert.Equal(2, plan.Starts.Count); // 10 → 11 → 12, then p is at 1.5 × 8
    }

    [Theory]
    [InlineData(0.5, false)] // p holds 10 of its 8, above 0.5 × 8: a 4-GPU job would take it to 14, past 1.5 × 8
    [InlineData(1.5, true)]  // sizes not counted: p is below 1.5 × 8, so any job may borrow
    public void Above_a_fraction_of_its_share_a_project_borrows_only_jobs_that_keep_it_within_the_factor(double anySize, bool bigStarts)
    {
        // Demand: p 10 held + 4 × 4 + 2 queued, q 8 on 16 GPUs: each is entitled to 8.
        var (h, more, q) = Contended(factor: 1.5, anySize, moreGpus: 4);
        var small = h.Submit(Job("small").Gpus(2).In("a/p").Walltime(hours: 2));
        var plan = h.Pass();
        if (bigStarts)
        {
            plan.ShouldStart(more[0]); // 10 → 14; then p is past 1.5 × 8 and borrows nothing more
            Assert.True(h.IsPending(small));
        }
        else
        {
            plan.ShouldStart(small); // 10 → 12 = 1.5 × 8
            var why = h.Explain(more[0]);
            Assert.Equal(PendingReasonKind.QuotaLimit, why.Reason);
            Assert.True(why.AtFairShare);
            Assert.Equal(("a/p", 10L, 8L), (why.Account, why.Held, why.Cap));
        }
        Assert.True(h.IsPending(q));
    }

    [Fact]
    public void A_project_holding_nothing_may_start_a_job_larger_than_its_share()
    {
        // p (1 share) asks for 8 GPUs, q (3 shares) runs 8 and asks for 8 more: on 16 GPUs p is entitled to 4 and
        // q, below its 12, waits. 8 is past 1.5 × 4, but p holds nothing, so its one job may still borrow.
        var h = new PolicyHarness(new PolicySettings { Reservations = 0 });
        h.Node("n01", gpus: 8);
        h.Node("n02", gpus: 8);
        h.Account("a", shares: 1);
        h.Account("a/p");
        h.Account("b", shares: 3);
        h.Account("b/q");
        h.Drain("n02");
        var running = h.Submit(Job("q0").Gpus(8).In("b/q").Walltime(hours: 4));
        h.Pass().ShouldStart(running);
        h.Resume("n02");
        var p = h.Submit(Job("p").Gpus(8).In("a/p").Walltime(hours: 2));
        var q = h.Submit(Job("q1").Gpus(8).In("b/q").Walltime(hours: 2));
        h.Pass().ShouldStart(p).ShouldBorrow(p);
        Assert.True(h.IsPending(q));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void BorrowAnySizeBelowShare_must_be_a_positive_number(double anySize) =>
        Assert.Throws<PolicyException>(() => new PolicyEngine(new PolicySettings { BorrowAnySizeBelowShare = anySize }, TimeProvider.System));

    [Fact]
    public void An_uncontended_cluster_lends_everything()
    {
        // Nobody else asks for anything: p is entitled to all it asks, so it borrows the whole cluster.
        var h = new PolicyHarness(new PolicySettings { BorrowBeyondFairShare = 1.0 });
        h.Nodes(2, gpus: 8);
        h.Account("a");
        h.Account("a/p");
        h.Account("b");
        h.Account("b/q");
        var jobs = h.SubmitMany(16, i => Job($"p{i}").In("a/p"));
        h.Pass().ShouldStart(jobs).ShouldBorrow(jobs);
    }

    [Theory]
    [InlineData(1.5, "q")]
    [InlineData(0.0, "p")] // off: the borrowing sweep follows the fair-share (decayed usage) order
    public void The_borrowing_sweep_serves_the_project_furthest_below_its_entitled_share_first(double factor, string expected)
    {
        var h = new PolicyHarness(new PolicySettings { BorrowBeyondFairShare = factor });
        h.Nodes(1, gpus: 8);
        h.Account("a");
        h.Account("a/p");
        h.Account("b");
        h.Account("b/q");
        // q has a history, so p ranks first by fair share; but p holds 4 GPUs now and q none.
        var history = h.Submit(Job("history").Gpus(8).In("b/q"));
        h.Pass().ShouldStart(history);
        h.Advance(TimeSpan.FromHours(10));
        h.Finish(history);
        var running = h.SubmitMany(4, i => Job($"run{i}").In("a/p").Walltime(hours: 8));
        h.Pass().ShouldStart(running);
        var p = h.Submit(Job("p").Gpus(4).In("a/p"));
        var q = h.Submit(Job("q").Gpus(4).In("b/q"));
        var plan = h.Pass();
        plan.ShouldStart(expected == "q" ? q : p);
        Assert.True(h.IsPending(expected == "q" ? p : q));
    }

    [Fact]
    public void A_job_that_may_not_borrow_takes_the_guarantee_ahead_of_its_projects_younger_jobs()
    {
        // org/p is guaranteed 8 GPUs. The older job x was preempted maxPreemptions times, so it may only run
        // inside the guarantee; the younger y holds half of it. x starts inside the guarantee and y yields:
        // it becomes a borrower, preemptible by other projects' reclaim, and is promoted back when x ends.
        var h = new PolicyHarness();
        h.Nodes(2, gpus: 8);
        h.Account("org", guarantee: ("h100", 8));
        h.Account("org/p", guarantee: ("h100", 8));
        h.Account("other", guarantee: ("h100", 8));
        h.Account("other/r", guarantee: ("h100", 8));
        var x = h.Submit(Job("x").Gpus(8).In("org/p").PreemptedBefore(3));
        h.Hold(x);
        h.Advance(TimeSpan.FromMinutes(1));
        var y = h.Submit(Job("y").Gpus(4).In("org/p"));
        h.Pass().ShouldStart(y).ShouldBeGuaranteed(y);
        h.Release(x);
        h.Pass().ShouldStart(x).ShouldBeGuaranteed(x);
        Assert.True(h.Job(y).Borrowing);
        Assert.Equal(8, h.AccountView("org/p").WithinGuarantee["h100"]);

        // Another project's guarantee now reclaims from y.
        var r = h.Submit(Job("r").Gpus(8).In("other/r"));
        h.Pass().ShouldPreempt(y);
        h.PreemptionsComplete();
        h.Pass().ShouldStart(r);
    }

    [Fact]
    public void A_yielding_job_is_promoted_back_when_the_guarantee_frees()
    {
        var h = new PolicyHarness();
        h.Nodes(2, gpus: 8);
        h.Account("org", guarantee: ("h100", 8));
        h.Account("org/p", guarantee: ("h100", 8));
        var x = h.Submit(Job("x").Gpus(8).In("org/p").NotPreemptible());
        h.Hold(x);
        h.Advance(TimeSpan.FromMinutes(1));
        var y = h.Submit(Job("y").Gpus(4).In("org/p"));
        h.Pass().ShouldStart(y).ShouldBeGuaranteed(y);
        h.Release(x);
        h.Pass().ShouldStart(x);
        Assert.True(h.Job(y).Borrowing);
        h.Finish(x);
        Assert.False(h.Job(y).Borrowing);
    }

    [Fact]
    public void Reclaim_preempts_the_victims_that_lose_the_least_work() => ReclaimOnFragmentedBorrowers(null, expectOld: false);

    [Fact]
    public void With_the_fair_share_victim_order_reclaim_takes_the_fewest_victims() =>
        ReclaimOnFragmentedBorrowers(new PolicySettings { ReclaimVictimOrder = ReclaimVictimOrder.FairShare }, expectOld: true);

    private static void ReclaimOnFragmentedBorrowers(PolicySettings? settings, bool expectOld)
    {
        // n01 carries one 8-GPU borrower that has run for 10 hours; n02 two 4-GPU borrowers started 5 minutes
        // ago. Fewest victims would stop the first and throw away 80 GPU-hours; two victims lose 40 GPU-minutes.
        var h = new PolicyHarness(settings);
        h.Nodes(2, gpus: 8);
        h.Account("uni-a", guarantee: ("h100", 8));
        h.Account("uni-a/vision", guarantee: ("h100", 8));
        h.Account("uni-b");
        h.Account("uni-b/nlp");
        h.Drain("n02");
        var old = h.Submit(Job("old").Gpus(8).In("uni-b/nlp").Walltime(hours: 24));
        h.Pass().ShouldStart(old);
        h.Resume("n02");
        h.Advance(TimeSpan.FromHours(10));
        var young = h.SubmitMany(2, i => Job($"young{i}").Gpus(4).In("uni-b/nlp").Walltime(hours: 24));
        h.Pass().ShouldStart(young);
        h.Advance(TimeSpan.FromMinutes(5));
        h.Submit(Job("a").Gpus(8).In("uni-a/vision"));
        if (expectOld) h.Pass().ShouldPreempt(old);
        else h.Pass().ShouldPreempt(young);
    }
}
