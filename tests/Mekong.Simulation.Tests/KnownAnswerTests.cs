using Mekong.Simulation.Setup;

namespace Mekong.Simulation.Tests;

/// <summary>Small traces whose schedule can be worked out by hand.</summary>
public class KnownAnswerTests
{
    [Theory]
    [InlineData(ReplayPolicy.Mekong)]
    [InlineData(ReplayPolicy.Fifo)]
    public void A_single_job_starts_at_submit_and_runs_its_duration(ReplayPolicy policy)
    {
        var r = Replay.Run(Replay.Trace("j1,t1,u,10,100,1,1,,"), gpus: 8, policy);

        var j = r.Job("j1");
        Assert.Equal((10L, 10L, 110L), (j.SubmitS, j.StartS, j.EndS));
        Assert.Equal(1, r.Jobs);
        Assert.Equal(110, r.MakespanS);
        Assert.Equal(0, r.WaitMeanS);
        Assert.Equal(100, r.JctMeanS);
        Assert.Equal(100.0 / (8 * 110), r.Utilization, 9);
        Assert.Equal(0, r.Preemptions);
    }

    private const string EqualShares = """
        accounts:
          - path: a
          - path: b
        """;

    [Fact]
    public void Two_tenants_contending_alternate_by_fair_share_under_mekong()
    {
        var trace = Replay.Trace("a1,a,u,0,100,8,1,,", "a2,a,u,0,100,8,1,,", "b1,b,u,0,100,8,1,,");

        var r = Replay.Run(trace, gpus: 8, ReplayPolicy.Mekong, EqualShares);

        // Equal usage at 0: ties break by name, so a goes first; at 100 b has used nothing and ranks above a.
        Assert.Equal(0, r.Job("a1").StartS);
        Assert.Equal(100, r.Job("b1").StartS);
        Assert.Equal(200, r.Job("a2").StartS);
        Assert.Equal(100, r.PerTenant.Single(t => t.Tenant == "b").WaitMeanS);
    }

    private const string SmallAndLarge = """
        accounts:
          - path: a
            shares: 1
          - path: b
            shares: 3
        """;

    [Theory]
    [InlineData(0.5, 1100L, 25.0 / 26)] // the default: a holds its 4 and a second job would take it to 8, past 1.5 × 4
    [InlineData(1.5, 100L, 0.8)]        // sizes not counted: a, below 1.5 × 4, borrows the second job too
    public void A_tenant_at_its_share_does_not_jump_past_it_with_one_more_job(double anySize, long a2Start, double jain)
    {
        // 16 GPUs; at 100 a (1 share) and b (3 shares) both ask for more than their 4 and 12: a's jobs are 4 GPUs,
        // b's 8. b's job at 0 gives it usage, so a is served first.
        var trace = Replay.Trace("b0,b,u,0,10,8,1,,",
            "a1,a,u,100,1000,4,1,,", "a2,a,u,100,1000,4,1,,", "b1,b,u,100,1000,8,1,,", "b2,b,u,100,1000,8,1,,");

        var r = Replay.Run(trace, gpus: 16, ReplayPolicy.Mekong, SmallAndLarge, walltime: WalltimeModel.Exact,
            settings: new Policy.PolicySettings { BorrowAnySizeBelowShare = anySize });

        // Either way b2 finds no whole node free until 1100.
        Assert.Equal((100L, 100L, a2Start, 1100L), (r.Job("a1").StartS, r.Job("b1").StartS, r.Job("a2").StartS, r.Job("b2").StartS));
        // Contended only from 100 to 1100: received/entitled is a 4/4 and b 8/12, or a 8/4 and b 8/12.
        Assert.Equal(jain, r.JainFairness, 9);
    }

    [Fact]
    public void Two_tenants_contending_go_strictly_by_arrival_under_fifo()
    {
        var trace = Replay.Trace("a1,a,u,0,100,8,1,,", "a2,a,u,0,100,8,1,,", "b1,b,u,0,100,8,1,,");

        var r = Replay.Run(trace, gpus: 8, ReplayPolicy.Fifo, EqualShares);

        Assert.Equal((0L, 100L, 200L), (r.Job("a1").StartS, r.Job("a2").StartS, r.Job("b1").StartS));
    }

    [Fact]
    public void Fifo_does_not_backfill_past_a_blocked_head()
    {
        // big waits for both nodes; small could run at once on the free node but FIFO keeps order.
        var trace = Replay.Trace("long,a,u,0,1000,8,1,,", "big,a,u,1,100,16,2,,", "small,a,u,2,10,8,1,,");

        var fifo = Replay.Run(trace, gpus: 16, ReplayPolicy.Fifo, walltime: WalltimeModel.Exact);
        var mekong = Replay.Run(trace, gpus: 16, ReplayPolicy.Mekong, walltime: WalltimeModel.Exact);

        Assert.Equal(1100, fifo.Job("small").StartS);
        Assert.Equal(2, mekong.Job("small").StartS); // ends at 12, long before big's reservation at 1000
        Assert.Equal(1000, mekong.Job("big").StartS);
    }

    private const string OwnerAndBorrower = """
        accounts:
          - path: own
            guarantee: { gpu: 8 }
          - path: bor
        """;

    [Fact]
    public void A_guarantee_is_reclaimed_within_the_grace_period_and_the_victim_reruns_in_full()
    {
        // bor borrows the whole idle cluster; own's job is inside its guarantee and reclaims a node.
        var trace = Replay.Trace("b1,bor,u,0,1000,8,1,,", "b2,bor,u,0,1000,8,1,,", "o1,own,u,100,500,8,1,,");

        var r = Replay.Run(trace, gpus: 16, ReplayPolicy.Mekong, OwnerAndBorrower);

        var o1 = r.Job("o1");
        Assert.Equal(130, o1.StartS); // one decision + the victim's 30 s grace period
        Assert.True(o1.GuaranteedAtSubmit);
        Assert.Equal(30, r.ReclaimP99S);
        Assert.Equal(1, r.Preemptions);
        var victim = r.Outcomes.Single(o => o.Preemptions == 1);
        Assert.Equal(630, victim.StartS); // requeued; runs again in full when o1 frees the node
        Assert.Equal(1630, victim.EndS);
        var other = r.Outcomes.Single(o => o.JobId != victim.JobId && o.Tenant == "bor");
        Assert.Equal((0L, 1000L), (other.StartS, other.EndS));
    }

    [Fact]
    public void Checkpointing_keeps_progress_at_multiples_of_the_interval()
    {
        var trace = Replay.Trace("b1,bor,u,0,1000,8,1,,", "b2,bor,u,0,1000,8,1,,", "o1,own,u,100,500,8,1,,");

        var r = Replay.Run(trace, gpus: 16, ReplayPolicy.Mekong, OwnerAndBorrower, checkpointEveryS: 60);

        // b2 ran 130 s before the kill: two 60 s checkpoints survive, 880 s remain.
        Assert.Equal(630 + 880, r.Outcomes.Single(o => o.Preemptions == 1).EndS);
    }

    [Fact]
    public void Fifo_never_preempts_so_the_owner_waits_for_the_borrower()
    {
        var trace = Replay.Trace("b1,bor,u,0,1000,8,1,,", "b2,bor,u,0,1000,8,1,,", "o1,own,u,100,500,8,1,,");

        var r = Replay.Run(trace, gpus: 16, ReplayPolicy.Fifo, OwnerAndBorrower);

        Assert.Equal(1000, r.Job("o1").StartS);
        Assert.Equal(900, r.ReclaimP99S);
        Assert.Equal(0, r.Preemptions);
    }

    [Fact]
    public void A_job_that_can_never_be_guaranteed_still_runs_after_max_preemptions()
    {
        // bor has no guarantee, so b1 can only borrow; own reclaims the whole cluster three times.
        var trace = Replay.Trace("b1,bor,u,0,1000,8,1,,", "o1,own,u,10,20,16,2,,", "o2,own,u,100,20,16,2,,", "o3,own,u,200,20,16,2,,");
        const string accounts = """
            accounts:
              - path: own
                guarantee: { gpu: 16 }
              - path: bor
            """;

        var r = Replay.Run(trace, gpus: 16, ReplayPolicy.Mekong, accounts);

        Assert.Equal(0, r.Unfinished);
        Assert.Equal((40L, 130L, 230L), (r.Job("o1").StartS, r.Job("o2").StartS, r.Job("o3").StartS));
        var b1 = r.Job("b1");
        Assert.Equal((3, 250L, 1250L), (b1.Preemptions, b1.StartS, b1.EndS));
    }

    [Fact]
    public void A_gang_starts_on_all_its_nodes_at_once()
    {
        // A 1-GPU job holds node 0 until 100; the 16-GPU gang needs both nodes.
        var trace = Replay.Trace("small,a,u,0,100,1,1,,", "gang,a,u,1,50,16,,,", "odd,a,u,200,10,12,,,", "split,a,u,300,10,12,2,,");

        var r = Replay.Run(trace, gpus: 16);

        Assert.Equal((100L, 150L, 16), (r.Job("gang").StartS, r.Job("gang").EndS, r.Job("gang").Gpus));
        Assert.Equal(16, r.Job("odd").Gpus);  // 12 GPUs, no node count: ceil(12/8) = 2 nodes × 8
        Assert.Equal(12, r.Job("split").Gpus); // the trace's 2 nodes divide 12 evenly: 2 × 6
    }

    [Fact]
    public void A_job_larger_than_the_cluster_is_counted_and_left_out()
    {
        var r = Replay.Run(Replay.Trace("huge,a,u,0,10,64,,,", "ok,a,u,0,10,8,,,"), gpus: 16, ReplayPolicy.Fifo);

        Assert.Equal((1, 1), (r.Jobs, r.Unsatisfiable));
    }

    [Theory]
    [InlineData(WalltimeModel.Roundup, 100, 3600)]
    [InlineData(WalltimeModel.Roundup, 3601, 4 * 3600)]
    [InlineData(WalltimeModel.Roundup, 168 * 3600, 168 * 3600)]
    [InlineData(WalltimeModel.Roundup, (168 * 3600) + 1, 2 * 168 * 3600)]
    [InlineData(WalltimeModel.Exact, 1234, 1234)]
    [InlineData(WalltimeModel.X2, 1234, 2468)]
    public void Walltime_models(WalltimeModel model, long duration, long expected) =>
        Assert.Equal(expected, model.LimitSeconds(duration));

    [Fact]
    public void Auto_accounts_guarantee_80_percent_in_proportion_to_gpu_hours()
    {
        var trace = Replay.Trace("a1,a,u,0,3600,8,1,,", "b1,b,u,0,3600,2,1,,", "c1,c,u,0,3600,1,1,,");
        var plan = AccountPlan.Auto(trace, ClusterSpec.FromGpuCount(64));

        var g = plan.Accounts.ToDictionary(a => a.Path, a => a.Guarantee["gpu"]);
        Assert.Equal(51, g.Values.Sum()); // floor(0.8 × 64)
        Assert.Equal(new Dictionary<string, int> { ["a"] = 37, ["b"] = 9, ["c"] = 5 }, g);
        Assert.All(plan.Accounts, a => Assert.Equal(a.Guarantee["gpu"], a.Shares));
    }
}
