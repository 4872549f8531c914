using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md: every pending job carries one reason with the numbers behind it.</summary>
public class ExplanationTests
{
    [Fact]
    public void After_a_full_pass_every_pending_job_has_a_reason_and_each_kind_appears()
    {
        var h = new PolicyHarness(new PolicySettings { Reservations = 1 });
        h.Nodes(2, gpus: 8, type: "h100");
        h.Nodes(1, gpus: 8, type: "a100");
        h.NodeDown("n03");
        h.Account("uni-a");
        h.Account("uni-a/vision", limit: ("h100", 8));
        h.Account("uni-b", budget: new Budget(0, BudgetPeriod.Month, BudgetAction.Hold));
        h.Account("uni-b/nlp");
        h.Account("uni-c");
        h.Account("uni-c/bio");

        var running = h.Submit(Job("running").Gpus(8).In("uni-a/vision").Walltime(hours: 2));
        var quota = h.Submit(Job("quota").Gpus(1).In("uni-a/vision"));
        var budget = h.Submit(Job("budget").Gpus(1).In("uni-b/nlp"));
        var held = h.Submit(Job("held").Gpus(1).In("uni-c/bio"));
        h.Hold(held);
        var typeDown = h.Submit(Job("type-down").Gpus(1, "a100").In("uni-c/bio"));
        var unsatisfiable = h.Submit(Job("unsat").Gang(3, gpus: 8).In("uni-c/bio"));
        var reserved = h.Submit(Job("reserved").Gang(2, gpus: 8).In("uni-c/bio"));
        var priority = h.Submit(Job("priority").Gpus(8).In("uni-c/bio").Walltime(hours: 10));
        h.Pass().ShouldStart(running);

        var reasons = new Dictionary<JobId, PendingReasonKind>
        {
            [quota] = PendingReasonKind.QuotaLimit,
            [budget] = PendingReasonKind.Budget,
            [held] = PendingReasonKind.Held,
            [typeDown] = PendingReasonKind.NodeTypeUnavailable,
            [unsatisfiable] = PendingReasonKind.Unsatisfiable,
            [reserved] = PendingReasonKind.Reserved,
            [priority] = PendingReasonKind.Priority,
        };
        foreach (var (job, kind) in reasons) Assert.True(kind == h.Explain(job).Reason, $"job {h.Describe(job)}: {h.Explain(job).Message}");
        Assert.All(h.Engine.Jobs().Where(j => j.Status == JobStatus.Pending), j => Assert.NotEqual(PendingReasonKind.None, h.Explain(j.Spec.Id).Reason));
        Assert.Equal(reserved, h.Explain(priority).BlockedBy);
    }

    [Fact]
    public void A_quota_reason_carries_the_account_and_its_numbers()
    {
        var h = new PolicyHarness();
        h.Nodes(8, gpus: 8);
        h.Account("uni-a");
        h.Account("uni-a/vision", limit: ("h100", 32));
        h.DefaultProject = "uni-a/vision";
        var a = h.Submit(Job("a").Gang(4, gpus: 8));
        h.Pass().ShouldStart(a);
        var j = h.Submit(Job("j").Gpus(8));
        h.Pass();
        var why = h.Explain(j);
        Assert.Equal("quota-limit", why.Reason.ToWire());
        Assert.Equal(("uni-a/vision", "h100", 32L, 32L, 8L), (why.Account, why.GpuType, why.Held, why.Cap, why.Requested));
        Assert.Equal("quota-limit: uni-a/vision at 32/32 h100, job needs 8", why.Message);
    }

    [Fact]
    public void A_resources_reason_says_how_much_is_free_on_a_fitting_node()
    {
        var h = new PolicyHarness(new PolicySettings { Reservations = 0 });
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/p");
        h.DefaultProject = "org/p";
        var six = h.Submit(Job("six").Gpus(6));
        h.Pass().ShouldStart(six);
        var j = h.Submit(Job("four").Gpus(4));
        h.Pass();
        var why = h.Explain(j);
        Assert.Equal((PendingReasonKind.Resources, 2L, 8L), (why.Reason, why.Held, why.Cap));
        Assert.Equal("resources: needs 4 h100; at most 2 of 8 free on a fitting node", why.Message);
    }

    [Fact]
    public void A_running_job_has_no_explanation_and_a_new_one_is_not_yet_considered()
    {
        var h = new PolicyHarness();
        h.Nodes(1, gpus: 8);
        h.Account("org");
        h.Account("org/p");
        var r = h.Submit(Job("r").Gpus(1).In("org/p"));
        h.Pass().ShouldStart(r);
        Assert.Null(h.Engine.Explain(r));
        var fresh = h.Submit(Job("fresh").Gpus(1).In("org/p"));
        Assert.Equal(PendingReasonKind.None, h.Explain(fresh).Reason);
        Assert.StartsWith("pending: not yet considered", h.Explain(fresh).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PendingReasonKind.Priority, "priority")]
    [InlineData(PendingReasonKind.Resources, "resources")]
    [InlineData(PendingReasonKind.QuotaLimit, "quota-limit")]
    [InlineData(PendingReasonKind.Budget, "budget")]
    [InlineData(PendingReasonKind.Reserved, "reserved")]
    [InlineData(PendingReasonKind.Held, "held")]
    [InlineData(PendingReasonKind.NodeTypeUnavailable, "node-type-unavailable")]
    [InlineData(PendingReasonKind.Unsatisfiable, "unsatisfiable")]
    public void Reasons_use_the_designs_words_on_the_wire(PendingReasonKind kind, string wire) =>
        Assert.Equal(wire, kind.ToWire());
}
