namespace Mekong.Simulation.Trace;

/// <summary>One row of a normalized trace (<c>job_id,tenant,user,submit_s,duration_s,gpus,nodes,gpu_type,status</c>).</summary>
/// <param name="Nodes">Machine count where the trace records it, else 0.</param>
/// <param name="GpuType">GPU type where the trace records it, else null.</param>
public sealed record TraceJob(string JobId, string Tenant, string User, long SubmitS, long DurationS, int Gpus, int Nodes, string? GpuType)
{
    /// <summary>Total GPU-hours of the job's recorded run.</summary>
    public double GpuHours => DurationS * (double)Gpus / 3600.0;
}
