using Mekong.Policy;

namespace Mekong.Store;

/// <summary>One run of a job, start to stop: the unit accounting is rebuilt from. <see cref="End"/> is null
/// while the run goes on.</summary>
public sealed record UsageRecord(JobId Job, string Project, string User, string GpuType, int Gpus, bool Borrowing, DateTimeOffset Start, DateTimeOffset? End)
{
    /// <summary>GPU-seconds of the run, counting an open run up to <paramref name="now"/>.</summary>
    public double GpuSeconds(DateTimeOffset now) => Gpus * Math.Max(0, ((End ?? now) - Start).TotalSeconds);
}
