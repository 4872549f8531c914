namespace Mekong.Policy;

/// <summary>The funding period a budget is counted over (calendar periods in UTC).</summary>
public enum BudgetPeriod
{
    Month = 0,
    Quarter = 1,
    Year = 2,
}

/// <summary>What happens to new jobs once a budget is spent.</summary>
public enum BudgetAction
{
    /// <summary>New jobs wait (reason <c>budget</c>) until the next period or a larger budget.</summary>
    Hold = 0,
    /// <summary>New jobs run only as preemptible borrowers, never inside the guarantee.</summary>
    Scavenge = 1,
}

/// <summary>GPU-hours an account may consume per period, counted over its whole subtree.</summary>
public sealed record Budget(long GpuHours, BudgetPeriod Period, BudgetAction OnExhausted)
{
    /// <summary>Start of the period that contains <paramref name="t"/>.</summary>
    public static DateTimeOffset PeriodStart(BudgetPeriod period, DateTimeOffset t)
    {
        var u = t.ToUniversalTime();
        return period switch
        {
            BudgetPeriod.Month => new DateTimeOffset(u.Year, u.Month, 1, 0, 0, 0, TimeSpan.Zero),
            BudgetPeriod.Quarter => new DateTimeOffset(u.Year, ((u.Month - 1) / 3 * 3) + 1, 1, 0, 0, 0, TimeSpan.Zero),
            _ => new DateTimeOffset(u.Year, 1, 1, 0, 0, 0, TimeSpan.Zero),
        };
    }
}
