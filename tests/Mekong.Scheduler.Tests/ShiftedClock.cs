namespace Mekong.Scheduler.Tests;

/// <summary>The system clock moved forward by hand: a test jumps hours ahead while the server's timers keep
/// ticking in real time (the base <see cref="TimeProvider"/> timers), so nothing else about the server changes.</summary>
internal sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
