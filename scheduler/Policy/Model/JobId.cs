namespace Mekong.Policy;

/// <summary>A job's identity, assigned by the host (the store's sequence). Orders by value.</summary>
public readonly record struct JobId(long Value) : IComparable<JobId>
{
    public int CompareTo(JobId other) => Value.CompareTo(other.Value);

    public static bool operator <(JobId left, JobId right) => left.Value < right.Value;

    public static bool operator >(JobId left, JobId right) => left.Value > right.Value;

    public static bool operator <=(JobId left, JobId right) => left.Value <= right.Value;

    public static bool operator >=(JobId left, JobId right) => left.Value >= right.Value;

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
