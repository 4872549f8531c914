using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md "Ordering: hierarchical fair share".</summary>
public class FairShareTests
{
    [Fact]
    public void Without_usage_siblings_rank_by_shares_then_name()
    {
        var h = new PolicyHarness();
        h.Account("zeta", shares: 2);
        h.Account("zeta/p");
        h.Account("beta");
        h.Account("beta/p");
        h.Account("alpha");
        h.Account("alpha/p");
        Assert.Equal(["zeta/p", "alpha/p", "beta/p"], h.Engine.FairShareOrder());
    }

    [Fact]
    public void A_project_that_used_more_ranks_after_its_sibling()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("uni");
        h.Account("uni/a");
        h.Account("uni/b");
        Assert.Equal(["uni/a", "uni/b"], h.Engine.FairShareOrder());
        var j = h.Submit(Job("a-run").Gpus(4).In("uni/a"));
        h.Pass().ShouldStart(j);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(j);
        Assert.Equal(["uni/b", "uni/a"], h.Engine.FairShareOrder());
    }

    [Fact]
    public void An_organisations_overuse_weighs_on_all_its_projects()
    {
        var h = new PolicyHarness();
        h.Nodes(2, gpus: 8);
        h.Account("big");
        h.Account("big/heavy");
        h.Account("big/idle");
        h.Account("small");
        h.Account("small/light");
        var heavy = h.Submit(Job("heavy").Gpus(8).In("big/heavy"));
        var light = h.Submit(Job("light").Gpus(1).In("small/light"));
        h.Pass().ShouldStart(heavy, light);
        h.Advance(TimeSpan.FromHours(2));
        h.Finish(heavy, light);

        // big/idle used nothing, yet its organisation used far more than small: small's project goes first.
        Assert.Equal(["small/light", "big/idle", "big/heavy"], h.Engine.FairShareOrder());

        // ...and so gets the one scarce node first.
        h.Advance(TimeSpan.FromMinutes(1));
        h.NodeDown("n02");
        var fromIdle = h.Submit(Job("idle-8").Gpus(8).In("big/idle"));
        var fromLight = h.Submit(Job("light-8").Gpus(8).In("small/light"));
        h.Pass().ShouldStart(fromLight);
        Assert.True(h.IsPending(fromIdle));
    }

    [Fact]
    public void Shares_weigh_against_usage()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("three", shares: 3);
        h.Account("three/p");
        h.Account("one");
        h.Account("one/p");
        // three uses twice what one uses: 2/3 of usage against 3/4 of shares still ranks it first.
        var a = h.Submit(Job("a").Gpus(2).In("three/p"));
        var b = h.Submit(Job("b").Gpus(1).In("one/p"));
        h.Pass().ShouldStart(a, b);
        h.Advance(TimeSpan.FromHours(1));
        Assert.Equal(["three/p", "one/p"], h.Engine.FairShareOrder());
        // At eight times one's usage (8/9 of usage against 3/4 of shares) it ranks second.
        h.Finish(b);
        h.Advance(TimeSpan.FromHours(3));
        Assert.Equal(["one/p", "three/p"], h.Engine.FairShareOrder());
    }

    [Fact]
    public void Scarce_capacity_goes_to_the_project_with_less_usage()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/x");
        h.Account("org/y");
        var warm = h.Submit(Job("warm").Gpus(8).In("org/x"));
        h.Pass().ShouldStart(warm);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(warm);
        var x = h.Submit(Job("x").Gpus(8).In("org/x"));
        h.Advance(TimeSpan.FromSeconds(1));
        var y = h.Submit(Job("y").Gpus(8).In("org/y"));
        h.Pass().ShouldStart(y);
        Assert.True(h.IsPending(x));
    }

    [Fact]
    public void Inside_a_project_jobs_go_by_priority_then_submit_time()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 1);
        h.Account("org");
        h.Account("org/p");
        h.DefaultProject = "org/p";
        var low = h.Submit(Job("low").Gpus(1).Low());
        h.Advance(TimeSpan.FromSeconds(1));
        var normal1 = h.Submit(Job("normal-1").Gpus(1));
        h.Advance(TimeSpan.FromSeconds(1));
        var high = h.Submit(Job("high").Gpus(1).High());
        h.Advance(TimeSpan.FromSeconds(1));
        var normal2 = h.Submit(Job("normal-2").Gpus(1));

        JobId[] expected = [high, normal1, normal2, low];
        foreach (var next in expected)
        {
            h.Pass().ShouldStart(next);
            h.Advance(TimeSpan.FromMinutes(1));
            h.Finish(next);
        }
    }

    [Fact]
    public void Usage_decays_with_the_half_life()
    {
        var h = new PolicyHarness(new PolicySettings { UsageHalfLife = TimeSpan.FromDays(7) });
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/p");
        var j = h.Submit(Job("j").Gpus(1).In("org/p"));
        h.Pass().ShouldStart(j);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(j);
        var after = h.AccountView("org/p").DecayedUsage;
        Assert.InRange(after, 3590, 3600);
        h.Advance(TimeSpan.FromDays(7));
        Assert.InRange(h.AccountView("org/p").DecayedUsage, (after / 2) - 1, (after / 2) + 1);
    }

    [Fact]
    public void Gpu_type_weights_make_an_h100_hour_count_more()
    {
        var h = new PolicyHarness(new PolicySettings { GpuTypeWeights = new Dictionary<string, double> { ["h100"] = 4, ["t4"] = 1 } });
        h.Nodes(1, gpus: 8, type: "h100");
        h.Nodes(1, gpus: 8, type: "t4");
        h.Account("hopper");
        h.Account("hopper/p");
        h.Account("turing");
        h.Account("turing/p");
        var a = h.Submit(Job("a").Gpus(1, "h100").In("hopper/p"));
        var b = h.Submit(Job("b").Gpus(2, "t4").In("turing/p"));
        h.Pass().ShouldStart(a, b);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(a, b);
        // 1 h100-hour × 4 outweighs 2 t4-hours × 1.
        Assert.Equal(["turing/p", "hopper/p"], h.Engine.FairShareOrder());
        Assert.Equal(2.0, h.AccountView("hopper/p").DecayedUsage / h.AccountView("turing/p").DecayedUsage, 2);
    }
}
