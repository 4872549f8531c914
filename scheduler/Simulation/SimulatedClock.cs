namespace Mekong.Simulation;

/// <summary>The simulator's clock: whole seconds since the trace's first submission, mapped onto a fixed
/// epoch so the core sees ordinary UTC instants. It only moves forward, and only when the simulator says.</summary>
public sealed class SimulatedClock : TimeProvider
{
    /// <summary>Trace second 0. Any fixed instant works; a Monday keeps budget periods unsurprising.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    public long Seconds { get; private set; }

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(Seconds * TimeSpan.TicksPerSecond);

    public void AdvanceTo(long seconds)
    {
        if (seconds < Seconds) throw new ArgumentOutOfRangeException(nameof(seconds), "simulated time only moves forward");
        Seconds = seconds;
    }

    public static DateTimeOffset At(long seconds) => Epoch.AddTicks(seconds * TimeSpan.TicksPerSecond);
}
