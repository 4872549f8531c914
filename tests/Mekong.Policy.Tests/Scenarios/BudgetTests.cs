using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md: a budget-exhausted project follows its hold or scavenge setting.</summary>
public class BudgetTests
{
    [Fact]
    public void A_budget_running_out_mid_period_holds_new_jobs_with_reason_budget()
    {
        var h = new PolicyHarness();
        h.Nodes(2, gpus: 8);
        h.Account("org");
        h.Account("org/p", budget: new Budget(10, BudgetPeriod.Month, BudgetAction.Hold));
        var burner = h.Submit(Job("burner").Gpus(8).In("org/p").Walltime(hours: 4));
        h.Pass().ShouldStart(burner);
        h.Advance(TimeSpan.FromHours(2)); // 16 GPU-hours burnt, budget 10

        var next = h.Submit(Job("next").Gpus(1).In("org/p"));
        h.Pass().ShouldStartNothing().ShouldPreemptNothing();
        Assert.True(h.IsRunning(burner)); // a spent budget does not stop running jobs
        var why = h.Explain(next);
        Assert.Equal((PendingReasonKind.Budget, "org/p", 16L, 10L), (why.Reason, why.Account, why.Held, why.Cap));
        Assert.Equal("budget: org/p used 16/10 GPU-hours this period", why.Message);
        Assert.Equal(16, h.AccountView("org/p").BudgetUsedGpuHours, 3);
    }

    [Fact]
    public void An_organisation_budget_counts_its_whole_subtree()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org", budget: new Budget(4, BudgetPeriod.Quarter, BudgetAction.Hold));
        h.Account("org/a");
        h.Account("org/b");
        var a = h.Submit(Job("a").Gpus(4).In("org/a"));
        h.Pass().ShouldStart(a);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(a);
        var b = h.Submit(Job("b").Gpus(1).In("org/b"));
        h.Pass().ShouldStartNothing();
        Assert.Equal((PendingReasonKind.Budget, "org"), (h.Explain(b).Reason, h.Explain(b).Account));
    }

    [Fact]
    public void A_new_period_releases_held_jobs()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/p", budget: new Budget(1, BudgetPeriod.Month, BudgetAction.Hold));
        var burner = h.Submit(Job("burner").Gpus(8).In("org/p"));
        h.Pass().ShouldStart(burner);
        h.Advance(TimeSpan.FromHours(1));
        h.Finish(burner);
        var next = h.Submit(Job("next").Gpus(1).In("org/p"));
        h.Pass().ShouldStartNothing();
        Assert.Equal(PendingReasonKind.Budget, h.Explain(next).Reason);
        h.Clock.Set(new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero));
        h.Pass().ShouldStart(next);
    }

    [Fact]
    public void A_scavenging_project_runs_only_as_a_borrower_and_is_preempted_by_a_guaranteed_job()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org", guarantee: ("h100", 8));
        h.Account("org/scav", guarantee: ("h100", 8), budget: new Budget(8, BudgetPeriod.Month, BudgetAction.Scavenge));
        h.Account("other", guarantee: ("h100", 8));
        h.Account("other/p", guarantee: ("h100", 8));
        var first = h.Submit(Job("first").Gpus(8).In("org/scav"));
        h.Pass().ShouldStart(first).ShouldBeGuaranteed(first);
        h.Advance(TimeSpan.FromHours(1)); // 8 GPU-hours: budget spent
        h.Finish(first);

        // Inside its guarantee, yet it only borrows now.
        var scavenger = h.Submit(Job("scavenger").Gpus(8).In("org/scav"));
        h.Pass().ShouldStart(scavenger).ShouldBorrow(scavenger);

        var guaranteed = h.Submit(Job("guaranteed").Gpus(8).In("other/p"));
        h.Pass().ShouldPreempt(scavenger);
        h.PreemptionsComplete();
        h.Pass().ShouldStart(guaranteed).ShouldBeGuaranteed(guaranteed);
    }

    [Fact]
    public void A_scavenging_job_that_is_not_preemptible_cannot_run()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/scav", budget: new Budget(0, BudgetPeriod.Month, BudgetAction.Scavenge));
        var j = h.Submit(Job("j").Gpus(1).In("org/scav").NotPreemptible());
        h.Pass().ShouldStartNothing();
        Assert.True(h.Explain(j).CannotBorrow);
    }
}
