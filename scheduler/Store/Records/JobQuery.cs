namespace Mekong.Store;

/// <summary>A filtered page of jobs, newest (highest id) first. Filters combine with AND; null matches all.</summary>
/// <param name="Projects">Jobs whose project is one of these paths or lies under one of them; null for any
/// project, empty for none.</param>
/// <param name="States">Only jobs in one of these states; null or empty for any state.</param>
/// <param name="User">Only jobs submitted by this user.</param>
/// <param name="BeforeId">Only jobs with a smaller id: the last id of the previous page.</param>
/// <param name="Limit">Most jobs to return (1..1000).</param>
public sealed record JobQuery(IReadOnlyList<string>? Projects, IReadOnlyList<JobState>? States, string? User, long? BeforeId, int Limit);
