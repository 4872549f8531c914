using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md "Preemption".</summary>
public class PreemptionTests
{
    /// <summary>uni-a is guaranteed 16 h100 (vision 16); uni-b and uni-c have no guarantee and borrow.</summary>
    private static PolicyHarness Harness(int nodes = 2, int gpus = 8)
    {
        var h = new PolicyHarness();
        h.Nodes(nodes, gpus: gpus);
        h.Account("uni-a", guarantee: ("h100", 16));
        h.Account("uni-a/vision", guarantee: ("h100", 16));
        h.Account("uni-b");
        h.Account("uni-b/nlp");
        h.Account("uni-c");
        h.Account("uni-c/bio");
        return h;
    }

    [Fact]
    public void A_guaranteed_job_reclaims_lent_capacity_from_a_borrower()
    {
        var h = Harness();
        var b1 = h.Submit(Job("b1").Gpus(8).In("uni-b/nlp").Grace(TimeSpan.FromMinutes(2)));
        var b2 = h.Submit(Job("b2").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(b1, b2).ShouldBorrow(b1, b2);
        h.Advance(TimeSpan.FromMinutes(10));
        var b2Start = h.Now;
        var a = h.Submit(Job("a").Gpus(8).In("uni-a/vision"));
        var plan = h.Pass().ShouldStartNothing().ShouldPreempt(b1);
        var p = plan.PreemptionOf(b1);
        Assert.Equal((a, PreemptionKind.GuaranteeReclaim, TimeSpan.FromMinutes(2)), (p.For, p.Kind, p.GracePeriod));
        Assert.Equal(JobStatus.Terminating, h.Status(b1));
        var why = h.Explain(a);
        Assert.Equal(PendingReasonKind.Reserved, why.Reason);
        Assert.Equal(b2Start + TimeSpan.FromMinutes(2), why.EstimatedStart);

        // Nothing else starts on the freed GPUs meanwhile; once b1 is gone a starts, b1 is pending again.
        h.Pass().ShouldStartNothing().ShouldPreemptNothing();
        Assert.Equal([b1], h.PreemptionsComplete());
        h.Pass().ShouldStart(a).ShouldBeGuaranteed(a);
        Assert.True(h.IsPending(b1));
        Assert.Equal(1, h.Job(b1).PreemptionCount);
    }

    [Fact]
    public void A_guarantee_is_reclaimed_across_a_fragmented_cluster_with_the_fewest_victims()
    {
        var h = Harness(nodes: 4);
        h.DefaultProject = "uni-b/nlp";
        // n01: 4 × 2 GPUs; n02: 2 × 4; n03: 8 × 1; n04: 1 × 6 (2 free).
        void Fill(string node, int count, int gpus)
        {
            foreach (var other in new[] { "n01", "n02", "n03", "n04" }.Where(n => n != node)) h.Drain(other);
            var jobs = h.SubmitMany(count, i => Job($"{node}-{i}").Gpus(gpus));
            h.Pass().ShouldStart(jobs);
            foreach (var other in new[] { "n01", "n02", "n03", "n04" }.Where(n => n != node)) h.Resume(other);
        }
        Fill("n01", 4, 2);
        Fill("n02", 2, 4);
        Fill("n03", 8, 1);
        Fill("n04", 1, 6);
        var six = h.Engine.Jobs().Single(j => j.Spec.Name == "n04-0").Spec.Id;

        var a = h.Submit(Job("a").Gpus(8).In("uni-a/vision"));
        h.Pass().ShouldPreempt(six);
        h.PreemptionsComplete();
        h.Pass().ShouldStart(a);
        Assert.Equal(["n04"], h.NodesOf(a));
    }

    [Fact]
    public void A_guaranteed_gang_reclaims_whole_nodes_from_scattered_borrowers()
    {
        var h = Harness(nodes: 4);
        h.DefaultProject = "uni-b/nlp";
        // Every node carries two 4-GPU borrowers.
        var borrowers = h.SubmitMany(8, i => Job($"b{i}").Gpus(4));
        h.Pass().ShouldStart(borrowers);
        var gang = h.Submit(Job("gang").Gang(2, gpus: 8).In("uni-a/vision"));
        var plan = h.Pass().ShouldStartNothing();
        Assert.Equal(4, plan.Preemptions.Count);
        var reserved = plan.ReservationOf(gang).Nodes;
        var victimNodes = plan.Preemptions.SelectMany(p => h.NodesOf(p.Victim)).Distinct().Order();
        Assert.Equal(reserved.Order(), victimNodes);
        h.PreemptionsComplete();
        h.Pass().ShouldStart(gang);
        Assert.Equal(reserved.Order(), h.NodesOf(gang).Order());
    }

    [Fact]
    public void Victims_come_from_the_account_furthest_over_its_fair_share_first()
    {
        var h = Harness();
        // uni-b has a long history; uni-c none.
        var history = h.Submit(Job("history").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(history);
        h.Advance(TimeSpan.FromHours(10));
        h.Finish(history);
        // Place uni-c's borrower on n01 and uni-b's on n02, started at the same instant.
        h.Drain("n02");
        var c = h.Submit(Job("c").Gpus(8).In("uni-c/bio"));
        h.Pass().ShouldStart(c);
        h.Resume("n02");
        var b = h.Submit(Job("b").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(b);
        Assert.Equal(["n01"], h.NodesOf(c));

        h.Submit(Job("a").Gpus(8).In("uni-a/vision"));
        h.Pass().ShouldPreempt(b);
    }

    [Fact]
    public void Within_an_account_the_most_recently_started_borrower_is_preempted()
    {
        var h = Harness();
        var older = h.Submit(Job("older").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(older);
        h.Advance(TimeSpan.FromHours(1));
        var newer = h.Submit(Job("newer").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(newer);
        h.Submit(Job("a").Gpus(8).In("uni-a/vision"));
        h.Pass().ShouldPreempt(newer);
    }

    [Fact]
    public void The_smallest_set_of_victims_is_chosen_on_a_node()
    {
        var h = Harness(nodes: 1);
        h.DefaultProject = "uni-b/nlp";
        var small = h.Submit(Job("small").Gpus(2));
        var big = h.Submit(Job("big").Gpus(6));
        h.Pass().ShouldStart(small, big);
        h.Submit(Job("a").Gpus(4).In("uni-a/vision"));
        h.Pass().ShouldPreempt(big);
    }

    [Fact]
    public void Guaranteed_jobs_are_never_preempted_by_other_accounts()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("a", guarantee: ("h100", 8));
        h.Account("a/p", guarantee: ("h100", 8));
        h.Account("b", guarantee: ("h100", 8));
        h.Account("b/p", guarantee: ("h100", 8));
        var first = h.Submit(Job("first").Gpus(8).In("a/p"));
        h.Pass().ShouldStart(first).ShouldBeGuaranteed(first);
        var second = h.Submit(Job("second").Gpus(8).In("b/p"));
        h.Pass().ShouldStartNothing().ShouldPreemptNothing();
        Assert.Equal(PendingReasonKind.Reserved, h.Explain(second).Reason);
        h.Finish(first);
        h.Pass().ShouldStart(second);
    }

    [Fact]
    public void Borrowers_never_preempt_each_other()
    {
        var h = Harness(nodes: 1);
        var b = h.Submit(Job("b").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(b);
        h.Advance(TimeSpan.FromHours(5));
        // uni-c has used nothing and ranks first, but only borrows: it waits.
        var c = h.Submit(Job("c").Gpus(8).In("uni-c/bio").High());
        h.Pass().ShouldStartNothing().ShouldPreemptNothing();
        Assert.True(h.IsPending(c));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void A_high_job_preempts_its_projects_own_low_jobs_only_where_the_project_allows_it(bool allowed, bool expectPreemption)
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/p", priorityPreemption: allowed);
        var low = h.Submit(Job("low").Gpus(8).In("org/p").Low());
        h.Pass().ShouldStart(low);
        var high = h.Submit(Job("high").Gpus(8).In("org/p").High());
        var plan = h.Pass().ShouldStartNothing();
        if (expectPreemption)
        {
            plan.ShouldPreempt(low);
            Assert.Equal(PreemptionKind.Priority, plan.PreemptionOf(low).Kind);
            h.PreemptionsComplete();
            h.Pass().ShouldStart(high);
        }
        else
        {
            plan.ShouldPreemptNothing();
        }
    }

    [Fact]
    public void Priority_preemption_applies_inside_a_guarantee_too()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org", guarantee: ("h100", 16));
        h.Account("org/p", guarantee: ("h100", 16), priorityPreemption: true);
        var low = h.Submit(Job("low").Gpus(8).In("org/p").Low());
        h.Pass().ShouldStart(low).ShouldBeGuaranteed(low);
        h.Submit(Job("high").Gpus(8).In("org/p").High());
        h.Pass().ShouldPreempt(low);
    }

    [Fact]
    public void A_job_whose_victims_have_gone_starts_there_even_when_its_project_is_now_held_at_its_fair_share()
    {
        // a's high job displaces one of a's low jobs. Before the victim is gone, b queues work: a now holds twice its
        // entitled share, and the fair-share rule refuses a any further borrowing. The vacated node is still the
        // high job's — the rule limits idle capacity a project may take, not capacity it freed for its own job —
        // so the job starts there, in the decision a full pass makes and in one after a single event alike.
        foreach (var incremental in new[] { false, true })
        {
            var h = new PolicyHarness(new PolicySettings { Reservations = 0 });
            h.Nodes(2, gpus: 8);
            h.Account("a", priorityPreemption: true);
            h.Account("b");
            var low = h.Submit(Job("a-low1").Gpus(8).In("a").Low(), Job("a-low2").Gpus(8).In("a").Low());
            h.Pass().ShouldStart(low);
            h.Advance(TimeSpan.FromMinutes(5));
            var high = h.Submit(Job("a-high").Gpus(8).In("a").High());
            var preempted = h.Pass().Preemptions.Single().Victim;
            h.Submit(Job("b-gang").Gang(2, gpus: 8).In("b"));
            h.Pass().ShouldStartNothing();
            h.Finish(preempted);
            var plan = incremental ? h.Decide() : h.Pass();
            plan.ShouldStart(high).ShouldPreemptNothing();
        }
    }

    [Fact]
    public void Priority_preemption_never_crosses_projects_and_spares_normal_jobs()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/p", priorityPreemption: true);
        h.Account("org/q", priorityPreemption: true);
        var otherLow = h.Submit(Job("other-low").Gpus(4).In("org/q").Low());
        var normal = h.Submit(Job("normal").Gpus(4).In("org/p"));
        h.Pass().ShouldStart(otherLow, normal);
        h.Submit(Job("high").Gpus(4).In("org/p").High());
        h.Pass().ShouldPreemptNothing();
    }

    [Fact]
    public void A_job_preempted_max_preemptions_times_no_longer_borrows()
    {
        // uni-b/nlp is guaranteed one node, held by g; its second job v can only borrow the other node.
        var h = Harness(nodes: 2);
        h.Engine.SetAccount(new AccountSpec("uni-b") { Guarantee = new Dictionary<string, int> { ["h100"] = 8 } });
        h.Engine.SetAccount(new AccountSpec("uni-b/nlp") { Guarantee = new Dictionary<string, int> { ["h100"] = 8 } });
        var g = h.Submit(Job("g").Gpus(8).In("uni-b/nlp"));
        h.Pass().ShouldStart(g).ShouldBeGuaranteed(g);
        var v = h.Submit(Job("victim").Gpus(8).In("uni-b/nlp"));
        for (var round = 1; round <= 3; round++)
        {
            h.Pass().ShouldStart(v).ShouldBorrow(v);
            var a = h.Submit(Job($"a{round}").Gpus(8).In("uni-a/vision"));
            h.Pass().ShouldPreempt(v);
            h.PreemptionsComplete();
            h.Pass().ShouldStart(a);
            h.Advance(TimeSpan.FromMinutes(5));
            h.Finish(a);
            Assert.Equal(round, h.Job(v).PreemptionCount);
        }
        // A node is free, but the victim may no longer borrow: it waits for guaranteed capacity.
        h.Pass().ShouldStartNothing();
        var why = h.Explain(v);
        Assert.Equal(PendingReasonKind.QuotaLimit, why.Reason);
        Assert.True(why.CannotBorrow);
        Assert.Equal("uni-b/nlp", why.Account);
        Assert.Contains("may not borrow", why.Message, StringComparison.Ordinal);

        // Once the guarantee frees up, it runs inside it.
        h.Finish(g);
        h.Pass().ShouldStart(v).ShouldBeGuaranteed(v);
    }

    [Fact]
    public void A_job_that_could_never_fit_its_guarantee_keeps_borrowing_after_max_preemptions()
    {
        // uni-b/nlp has no guarantee: "wait for guaranteed capacity" would be forever, so it still borrows.
        var h = Harness(nodes: 1);
        var v = h.Submit(Job("victim").Gpus(8).In("uni-b/nlp").PreemptedBefore(3));
        h.Pass().ShouldStart(v).ShouldBorrow(v);
        var a = h.Submit(Job("a").Gpus(8).In("uni-a/vision"));
        h.Pass().ShouldPreempt(v);
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void MaxPreemptions_is_a_setting(int preemptedBefore, bool borrows)
    {
        var h = new PolicyHarness(new PolicySettings { MaxPreemptions = 3 });
        h.Nodes(2, gpus: 8);
        h.Account("org", guarantee: ("h100", 8));
        h.Account("org/p", guarantee: ("h100", 8));
        var g = h.Submit(Job("g").Gpus(8).In("org/p"));
        h.Pass().ShouldStart(g);
        var j = h.Submit(Job("j").Gpus(8).In("org/p").PreemptedBefore(preemptedBefore));
        var plan = h.Pass();
        if (borrows) plan.ShouldStart(j);
        else plan.ShouldStartNothing();
    }

    [Fact]
    public void Reclaim_settles_without_preemption_loops()
    {
        var h = Harness(nodes: 2);
        var b = h.SubmitMany(4, i => Job($"b{i}").Gpus(4).In("uni-b/nlp"));
        h.Pass().ShouldStart(b);
        var a = h.SubmitMany(2, i => Job($"a{i}").Gpus(8).In("uni-a/vision"));
        var preempted = new List<JobId>();
        for (var pass = 0; pass < 6; pass++)
        {
            var plan = h.Pass();
            preempted.AddRange(plan.Preemptions.Select(p => p.Victim));
            h.PreemptionsComplete();
        }
        Assert.All(a, j => Assert.True(h.IsRunning(j)));
        Assert.Equal(b.Order(), preempted.Order());
        // The requeued borrowers wait; nothing preempts anything any more.
        h.Pass().ShouldStartNothing().ShouldPreemptNothing();
    }
}
