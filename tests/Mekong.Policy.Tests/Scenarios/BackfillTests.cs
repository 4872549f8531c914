using Mekong.Policy.Tests.Harness;
using static Mekong.Policy.Tests.Harness.Builders;

namespace Mekong.Policy.Tests.Scenarios;

/// <summary>DESIGN.md "Backfill and estimated start".</summary>
public class BackfillTests
{
    private static PolicyHarness Harness(PolicySettings? settings = null)
    {
        var h = new PolicyHarness(settings);
        h.Account("org");
        h.Account("org/p");
        h.DefaultProject = "org/p";
        return h;
    }

    /// <summary>n01 runs an 8-GPU job for 4 hours; a 2×8 gang waits for it, reserved on both nodes from +4h.</summary>
    private static (PolicyHarness H, JobId Running, JobId Gang) BlockedGang(PolicySettings? settings = null)
    {
        var h = Harness(settings);
        h.Nodes(2, gpus: 8);
        var running = h.Submit(Job("running").Gpus(8).Walltime(hours: 4));
        h.Pass().ShouldStart(running);
        var gang = h.Submit(Job("gang").Gang(2, gpus: 8).Walltime(hours: 4));
        return (h, running, gang);
    }

    [Theory]
    [InlineData(2.0, true)]
    [InlineData(4.0, true)]
    [InlineData(4.5, false)]
    [InlineData(10.0, false)]
    public void A_short_job_backfills_beside_a_reservation_and_a_long_one_does_not(double hours, bool starts)
    {
        var (h, _, gang) = BlockedGang();
        var t0 = h.Now;
        var j = h.Submit(Job("j").Gpus(4).Walltime(hours: hours));
        var plan = h.Pass();
        Assert.Equal(["n01", "n02"], plan.ReservationOf(gang).Nodes);
        Assert.Equal(t0 + TimeSpan.FromHours(4), h.Explain(gang).EstimatedStart);
        if (starts)
        {
            plan.ShouldStart(j);
            Assert.Equal(["n02"], h.NodesOf(j));
        }
        else
        {
            plan.ShouldStartNothing();
            // It gets the next reservation: after the gang.
            var why = h.Explain(j);
            Assert.Equal(PendingReasonKind.Reserved, why.Reason);
            Assert.Equal(t0 + TimeSpan.FromHours(8), why.EstimatedStart);
        }
        // Either way the gang's start did not move.
        Assert.Equal(t0 + TimeSpan.FromHours(4), h.Explain(gang).EstimatedStart);
    }

    [Fact]
    public void Beyond_the_reservation_count_a_job_that_would_delay_one_waits_on_priority()
    {
        var (h, _, gang) = BlockedGang(new PolicySettings { Reservations = 1 });
        var j = h.Submit(Job("long").Gpus(4).Walltime(hours: 10));
        h.Pass().ShouldStartNothing().ShouldReserve(gang);
        var why = h.Explain(j);
        Assert.Equal(PendingReasonKind.Priority, why.Reason);
        Assert.Equal(gang, why.BlockedBy);
        Assert.Null(why.EstimatedStart);
    }

    [Fact]
    public void A_long_job_backfills_on_resources_the_reservation_does_not_need()
    {
        var h = Harness();
        h.Nodes(2, gpus: 8);
        var r1 = h.Submit(Job("r1").Gpus(8).Walltime(hours: 4));
        var r2 = h.Submit(Job("r2").Gpus(4).Walltime(hours: 8));
        h.Pass().ShouldStart(r1, r2);
        Assert.Equal(["n01"], h.NodesOf(r1));
        var big = h.Submit(Job("big").Gpus(8).Walltime(hours: 4));
        var longJob = h.Submit(Job("long").Gpus(4).Walltime(hours: 10));
        var plan = h.Pass().ShouldStart(longJob);
        Assert.Equal(["n01"], plan.ReservationOf(big).Nodes);
        Assert.Equal(["n02"], h.NodesOf(longJob));
    }

    [Fact]
    public void The_estimated_start_is_the_blocking_jobs_walltime_end()
    {
        var h = Harness();
        h.Nodes(1, gpus: 8);
        var running = h.Submit(Job("running").Gpus(6).Walltime(hours: 4));
        h.Pass().ShouldStart(running);
        var started = h.Now;
        h.Advance(TimeSpan.FromHours(1));
        var waiting = h.Submit(Job("waiting").Gpus(4));
        h.Pass().ShouldStartNothing();
        var why = h.Explain(waiting);
        Assert.Equal(PendingReasonKind.Reserved, why.Reason);
        Assert.Equal(started + TimeSpan.FromHours(4), why.EstimatedStart);
        Assert.Equal(started + TimeSpan.FromHours(4), h.LastPlan!.ReservationOf(waiting).Start);

        // The blocking job ends early: the waiting job starts at once.
        h.Advance(TimeSpan.FromMinutes(30));
        h.Finish(running);
        h.Pass().ShouldStart(waiting);
    }

    [Fact]
    public void Backfill_never_delays_a_reservation_over_successive_passes()
    {
        var (h, running, gang) = BlockedGang();
        var expected = h.Now + TimeSpan.FromHours(4);
        var smalls = h.SubmitMany(6, i => Job($"s{i}").Gpus(2).Walltime(hours: 1 + i));
        for (var hour = 0; hour < 4; hour++)
        {
            h.Pass();
            Assert.Equal(expected, h.Explain(gang).EstimatedStart);
            h.Advance(TimeSpan.FromHours(1));
            foreach (var s in smalls.Where(h.IsRunning).Where(s => h.Job(s).Started + h.Job(s).Spec.Walltime <= h.Now).ToList()) h.Finish(s);
        }
        Assert.Equal(expected, h.Now);
        h.Finish(running);
        foreach (var s in smalls.Where(h.IsRunning).ToList()) Assert.True(h.Job(s).Started + h.Job(s).Spec.Walltime <= expected);
        h.Pass().ShouldStart(gang);
    }

    [Fact]
    public void Only_the_top_blocked_jobs_get_reservations()
    {
        var h = Harness(new PolicySettings { Reservations = 2 });
        h.Nodes(1, gpus: 8);
        var running = h.Submit(Job("running").Gpus(8).Walltime(hours: 1));
        h.Pass().ShouldStart(running);
        var waiting = h.SubmitMany(4, i => Job($"w{i}").Gpus(8).Walltime(hours: 1));
        h.Pass().ShouldReserve(waiting[0], waiting[1]);
        Assert.Equal(h.Now + TimeSpan.FromHours(1), h.Explain(waiting[0]).EstimatedStart);
        Assert.Equal(h.Now + TimeSpan.FromHours(2), h.Explain(waiting[1]).EstimatedStart);
        Assert.Null(h.Explain(waiting[2]).EstimatedStart);
        Assert.NotEqual(PendingReasonKind.None, h.Explain(waiting[3]).Reason);
    }
}
