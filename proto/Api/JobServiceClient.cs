using Mekong.Transport;

namespace Mekong.Api.V1;

/// <summary>A typed client of mekong.v1.JobService over an <see cref="RpcChannel"/>.</summary>
public sealed class JobServiceClient
{
    private readonly RpcChannel _channel;

    public JobServiceClient(RpcChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
    }

    /// <summary>SubmitJob.</summary>
    public Task<SubmitJobResponse> SubmitJobAsync(SubmitJobRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(JobServiceRpc.SubmitJob, request, options);

    /// <summary>GetJob.</summary>
    public Task<GetJobResponse> GetJobAsync(GetJobRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(JobServiceRpc.GetJob, request, options);

    /// <summary>ListJobs.</summary>
    public Task<ListJobsResponse> ListJobsAsync(ListJobsRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(JobServiceRpc.ListJobs, request, options);

    /// <summary>CancelJob.</summary>
    public Task<CancelJobResponse> CancelJobAsync(CancelJobRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(JobServiceRpc.CancelJob, request, options);

    /// <summary>WatchJob: a stream of JobEvent; dispose the call to cancel it.</summary>
    public ServerStreamingCall<JobEvent> WatchJob(WatchJobRequest request, CallOptions? options = null) =>
        _channel.ServerStreaming(JobServiceRpc.WatchJob, request, options);

    /// <summary>WatchProject: a stream of JobEvent; dispose the call to cancel it.</summary>
    public ServerStreamingCall<JobEvent> WatchProject(WatchProjectRequest request, CallOptions? options = null) =>
        _channel.ServerStreaming(JobServiceRpc.WatchProject, request, options);

    /// <summary>ReadJobLogs: a stream of JobLogChunk; dispose the call to stop following.</summary>
    public ServerStreamingCall<JobLogChunk> ReadJobLogs(ReadJobLogsRequest request, CallOptions? options = null) =>
        _channel.ServerStreaming(JobServiceRpc.ReadJobLogs, request, options);

    /// <summary>ExplainJob.</summary>
    public Task<ExplainJobResponse> ExplainJobAsync(ExplainJobRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(JobServiceRpc.ExplainJob, request, options);
}
