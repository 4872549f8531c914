using Google.Protobuf.Reflection;
using Mekong.Transport;

namespace Mekong.Api.V1;

/// <summary>The methods of mekong.v1.JobService, for registering handlers and making calls.</summary>
public static class JobServiceRpc
{
    /// <summary>The service's descriptor from jobs.proto.</summary>
    public static readonly ServiceDescriptor Descriptor = JobsReflection.Descriptor.FindTypeByName<ServiceDescriptor>("JobService");

    /// <summary>JobService.SubmitJob.</summary>
    public static readonly Method<SubmitJobRequest, SubmitJobResponse> SubmitJob = new(Descriptor, nameof(SubmitJob));

    /// <summary>JobService.GetJob.</summary>
    public static readonly Method<GetJobRequest, GetJobResponse> GetJob = new(Descriptor, nameof(GetJob));

    /// <summary>JobService.ListJobs.</summary>
    public static readonly Method<ListJobsRequest, ListJobsResponse> ListJobs = new(Descriptor, nameof(ListJobs));

    /// <summary>JobService.CancelJob.</summary>
    public static readonly Method<CancelJobRequest, CancelJobResponse> CancelJob = new(Descriptor, nameof(CancelJob));

    /// <summary>JobService.WatchJob.</summary>
    public static readonly Method<WatchJobRequest, JobEvent> WatchJob = new(Descriptor, nameof(WatchJob));

    /// <summary>JobService.WatchProject.</summary>
    public static readonly Method<WatchProjectRequest, JobEvent> WatchProject = new(Descriptor, nameof(WatchProject));

    /// <summary>JobService.ExplainJob.</summary>
    public static readonly Method<ExplainJobRequest, ExplainJobResponse> ExplainJob = new(Descriptor, nameof(ExplainJob));

    /// <summary>JobService.ReadJobLogs.</summary>
    public static readonly Method<ReadJobLogsRequest, JobLogChunk> ReadJobLogs = new(Descriptor, nameof(ReadJobLogs));
}
