namespace Mekong.Policy.Jobs;

/// <summary>What placement depends on, besides walltime: jobs with equal keys fit or fail alike.</summary>
internal readonly record struct ShapeKey(int Type, int GpusPerNode, int Nodes, int Cpu, long Memory);
