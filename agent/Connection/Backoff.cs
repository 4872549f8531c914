namespace Mekong.Agent.Connection;

/// <summary>
/// Reconnect delays: exponential from a minimum to a cap, with "equal jitter" (half the delay fixed,
/// half random) so that hundreds of agents cut off by one scheduler restart do not return in lockstep.
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private readonly Random _random;
    private int _failures;

    public Backoff(TimeSpan min, TimeSpan max, Random? random = null)
    {
        _min = min;
        _max = max < min ? min : max;
        _random = random ?? Random.Shared;
    }

    /// <summary>The delay before the next attempt.</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures++, 30);
        var ceiling = Math.Min(_max.TotalMilliseconds, _min.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (_random.NextDouble() * ceiling / 2));
    }

    /// <summary>A session was established: start again from the minimum.</summary>
    public void Reset() => _failures = 0;
}
