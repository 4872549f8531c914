using Mekong.Policy;

namespace Mekong.Store;

/// <summary>One appended state change of a job (the journal of <c>job_events</c>).</summary>
public sealed record JobEvent(long Sequence, JobId Job, DateTimeOffset At, JobState State, string? Reason);
