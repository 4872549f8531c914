namespace Mekong.Policy;

/// <summary>A blocked job's claim on specific nodes from <paramref name="Start"/>: backfill may not delay it.</summary>
/// <param name="GpusPerNode">GPUs claimed on each node.</param>
public sealed record Reservation(JobId Job, DateTimeOffset Start, IReadOnlyList<string> Nodes, int GpusPerNode, string GpuType);
