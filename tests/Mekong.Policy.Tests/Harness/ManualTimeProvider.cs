namespace Mekong.Policy.Tests.Harness;

/// <summary>A clock that moves only when a test says so.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private DateTimeOffset _now = start;

    public ManualTimeProvider() : this(Epoch) { }

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), "time only moves forward");
        _now += by;
    }

    public void Set(DateTimeOffset to)
    {
        if (to < _now) throw new ArgumentOutOfRangeException(nameof(to), "time only moves forward");
        _now = to;
    }
}
