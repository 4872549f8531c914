using Mekong.Simulation.Trace;

namespace Mekong.Simulation.Schedulers;

/// <summary>A trace job as the replay tracks it: its shape on the simulated cluster and its run history.</summary>
internal sealed class SimJob(int index, TraceJob trace, int tenant, int project, int nodes, int gpusPerNode, long walltimeS, string? gpuType)
{
    /// <summary>Position in the (submit-ordered) trace; the core's job id is this + 1.</summary>
    public int Index { get; } = index;
    public TraceJob Trace { get; } = trace;
    public int Tenant { get; } = tenant;
    public int Project { get; } = project;
    public int Nodes { get; } = nodes;
    public int GpusPerNode { get; } = gpusPerNode;
    public int Gpus => Nodes * GpusPerNode;
    public long WalltimeS { get; } = walltimeS;
    /// <summary>GPU type the job asks for, or null for any.</summary>
    public string? GpuType { get; } = gpuType;

    /// <summary>Work still to do; a preemption without checkpoint leaves it unchanged.</summary>
    public long RemainingS { get; set; } = trace.DurationS;
    public long StartS { get; set; } = -1;
    public long EndS { get; set; } = -1;
    public int Preemptions { get; set; }
    public bool Running { get; set; }
    /// <summary>Bumped whenever a run ends, so stale completion and kill events are ignored.</summary>
    public int Generation { get; set; }
    /// <summary>Its project's demand, this job included, was within the project's guarantee at submission.</summary>
    public bool GuaranteedAtSubmit { get; set; }
}
