namespace Mekong.Policy.Tests.Harness;

/// <summary>Whole-plan assertions: each names the complete set expected, so an extra start or preemption fails.</summary>
public static class PlanAssertions
{
    public static SchedulingPlan ShouldStart(this SchedulingPlan plan, params JobId[] jobs)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Assert.Equal(jobs.Order(), plan.Starts.Select(s => s.Job).Order());
        return plan;
    }

    public static SchedulingPlan ShouldStartNothing(this SchedulingPlan plan) => plan.ShouldStart();

    public static SchedulingPlan ShouldPreempt(this SchedulingPlan plan, params JobId[] victims)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Assert.Equal(victims.Order(), plan.Preemptions.Select(p => p.Victim).Order());
        return plan;
    }

    public static SchedulingPlan ShouldPreemptNothing(this SchedulingPlan plan) => plan.ShouldPreempt();

    /// <summary>Exactly these jobs hold reservations (counted ones and waits for victims alike).</summary>
    public static SchedulingPlan ShouldReserve(this SchedulingPlan plan, params JobId[] jobs)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Assert.Equal(jobs.Order(), plan.Reservations.Select(r => r.Job).Order());
        return plan;
    }

    public static JobStart StartOf(this SchedulingPlan plan, JobId job)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Assert.Single(plan.Starts, s => s.Job == job);
    }

    public static Reservation ReservationOf(this SchedulingPlan plan, JobId job)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Assert.Single(plan.Reservations, r => r.Job == job);
    }

    public static JobPreemption PreemptionOf(this SchedulingPlan plan, JobId victim)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Assert.Single(plan.Preemptions, p => p.Victim == victim);
    }

    public static SchedulingPlan ShouldBorrow(this SchedulingPlan plan, params JobId[] jobs)
    {
        foreach (var j in jobs) Assert.True(plan.StartOf(j).Borrowing, $"job {j} should start borrowing");
        return plan;
    }

    public static SchedulingPlan ShouldBeGuaranteed(this SchedulingPlan plan, params JobId[] jobs)
    {
        foreach (var j in jobs) Assert.False(plan.StartOf(j).Borrowing, $"job {j} should start inside its guarantee");
        return plan;
    }

    /// <summary>The starts and preemptions as comparable data (for determinism and Decide-vs-Schedule checks).</summary>
    public static string Decisions(this SchedulingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var starts = plan.Starts.Select(s => $"S{s.Job}@{string.Join("+", s.Allocations.Select(a => $"{a.Node}/{a.GpuMask:x}"))}{(s.Borrowing ? "b" : "")}");
        var preemptions = plan.Preemptions.Select(p => $"P{p.Victim}>{p.For}:{p.Kind}");
        return string.Join(" ", starts.Concat(preemptions));
    }
}
