using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Proto.Tests.Demo;

/// <summary>
/// An in-memory JobService that proves the transport (the real one is the scheduler's). Special ids
/// and projects drive the failure paths: job "slow" waits for its token, "stubborn" ignores it,
/// project "boom" throws.
/// </summary>
internal sealed class DemoJobService
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Job> _jobs = [];
    private readonly JobEventHub _events = new();
    private long _nextId;
    private long _sequence;
    private int _cancelledWatches;
    private int _activeWatches;

    /// <summary>Watches that ended because the client cancelled them (or their deadline passed).</summary>
    public int CancelledWatches => Volatile.Read(ref _cancelledWatches);

    /// <summary>Watches running now.</summary>
    public int ActiveWatches => Volatile.Read(ref _activeWatches);

    public RpcServiceDefinition Definition() => RpcServiceDefinition.For(JobServiceRpc.Descriptor)
        .Unary(JobServiceRpc.SubmitJob, SubmitJob)
        .Unary(JobServiceRpc.GetJob, GetJob)
        .Unary(JobServiceRpc.ListJobs, ListJobs)
        .Unary(JobServiceRpc.CancelJob, CancelJob)
        .ServerStreaming(JobServiceRpc.WatchJob, WatchJob)
        .ServerStreaming(JobServiceRpc.WatchProject, WatchProject)
        .Unary(JobServiceRpc.ExplainJob, ExplainJob)
        .Build();

    private static string UserOf(CallContext context)
    {
        var authorization = context.RequestHeaders.Get("authorization");
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization[7..] : "anonymous";
    }

    private Task<SubmitJobResponse> SubmitJob(SubmitJobRequest request, CallContext context)
    {
        var spec = request.Spec ?? throw new RpcException(StatusCode.InvalidArgument, "spec is required");
        if (spec.Project == "boom")
        {
            throw new InvalidOperationException("the demo service exploded");
        }

        if (string.IsNullOrEmpty(spec.Project))
        {
            throw new RpcException(StatusCode.InvalidArgument, "spec.project is required");
        }

        if (spec.GpusPerNode < 1)
        {
            throw new RpcException(StatusCode.InvalidArgument, "spec.gpus_per_node must be at least 1");
        }

        Job job;
        lock (_lock)
        {
            var id = "j-" + (++_nextId).ToString("D6", CultureInfo.InvariantCulture);
            job = new Job
            {
                Id = id,
                Spec = spec,
                User = UserOf(context),
                State = JobState.Pending,
                SubmitTime = Timestamp.FromDateTime(DateTime.UtcNow),
                Explanation = new Explanation { Reason = PendingReason.Resources, ReasonCode = "resources" },
            };
            _jobs[id] = job;
        }

        context.ResponseTrailers.Add("x-demo-job-id", job.Id);
        Publish(JobEventType.Submitted, job, JobState.Unspecified);
        return Task.FromResult(new SubmitJobResponse { Job = job.Clone() });
    }

    private async Task<GetJobResponse> GetJob(GetJobRequest request, CallContext context)
    {
        if (request.Id == "slow")
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        if (request.Id == "stubborn")
        {
#pragma warning disable CA2016 // Ignoring the token is the point: the transport must still end the call at its deadline.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
#pragma warning restore CA2016
        }

        return new GetJobResponse { Job = Find(request.Id).Clone() };
    }

    private Job Find(string id)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(id, out var job) ? job : throw new RpcException(StatusCode.NotFound, $"job {id} not found");
        }
    }

    private Task<ListJobsResponse> ListJobs(ListJobsRequest request, CallContext context)
    {
        List<Job> matching;
        lock (_lock)
        {
            matching = _jobs.Values
                .Where(j => request.Project.Length == 0 || j.Spec.Project == request.Project || j.Spec.Project.StartsWith(request.Project + "/", StringComparison.Ordinal))
                .Where(j => request.States.Count == 0 || request.States.Contains(j.State))
                .Where(j => request.User.Length == 0 || j.User == request.User)
                .OrderByDescending(j => j.Id, StringComparer.Ordinal)
                .Select(j => j.Clone())
                .ToList();
        }

        var offset = 0;
        if (request.PageToken.Length > 0 && !int.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            throw new RpcException(StatusCode.InvalidArgument, "page_token is not valid");
        }

        var size = request.PageSize == 0 ? 100 : (int)Math.Min(request.PageSize, 1000);
        var response = new ListJobsResponse();
        response.Jobs.AddRange(matching.Skip(offset).Take(size));
        if (offset + size < matching.Count)
        {
            response.NextPageToken = (offset + size).ToString(CultureInfo.InvariantCulture);
        }

        return Task.FromResult(response);
    }

    private Task<CancelJobResponse> CancelJob(CancelJobRequest request, CallContext context)
    {
        Job job;
        JobState previous;
        lock (_lock)
        {
            job = Find(request.Id);
            previous = job.State;
            if (previous is not (JobState.Pending or JobState.Running or JobState.Held))
            {
                throw new RpcException(StatusCode.FailedPrecondition, $"job {job.Id} is already {previous}");
            }

            job.State = JobState.Cancelled;
            job.CancelledBy = UserOf(context);
            job.StateMessage = request.Reason;
            job.EndTime = Timestamp.FromDateTime(DateTime.UtcNow);
            job.Explanation = null;
        }

        Publish(JobEventType.StateChanged, job, previous);
        return Task.FromResult(new CancelJobResponse { Job = job.Clone() });
    }

    private async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobEvent> writer, CallContext context)
    {
        var subscription = _events.Subscribe();
        try
        {
            var job = Find(request.Id).Clone();
            await writer.WriteAsync(new JobEvent { Type = JobEventType.Snapshot, Job = job, Time = Timestamp.FromDateTime(DateTime.UtcNow) });
            if (IsFinal(job.State))
            {
                return;
            }

            await foreach (var e in subscription.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (e.Job.Id != request.Id)
                {
                    continue;
                }

                await writer.WriteAsync(e);
                if (IsFinal(e.Job.State))
                {
                    return;
                }
            }
        }
        finally
        {
            _events.Unsubscribe(subscription);
        }
    }

    private async Task WatchProject(WatchProjectRequest request, IServerStreamWriter<JobEvent> writer, CallContext context)
    {
        var subscription = _events.Subscribe();
        Interlocked.Increment(ref _activeWatches);
        try
        {
            // Headers go out once subscribed, so that a client knows the watch sees what follows.
            await context.WriteResponseHeadersAsync();
            await foreach (var e in subscription.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (e.Job.Spec.Project == request.Project && (request.States.Count == 0 || request.States.Contains(e.Job.State)))
                {
                    await writer.WriteAsync(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelledWatches);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _activeWatches);
            _events.Unsubscribe(subscription);
        }
    }

    private Task<ExplainJobResponse> ExplainJob(ExplainJobRequest request, CallContext context)
    {
        var job = Find(request.Id);
        return Task.FromResult(new ExplainJobResponse
        {
            Id = job.Id,
            State = job.State,
            Explanation = new Explanation
            {
                Reason = PendingReason.QuotaLimit,
                ReasonCode = "quota-limit",
                Message = $"project {job.Spec.Project} at 32/32 h100",
                Account = job.Spec.Project,
                GpuType = "h100",
                GpusInUse = 32,
                GpusBound = 32,
                GpusRequested = job.Spec.GpusPerNode * Math.Max(1, job.Spec.Nodes),
                EstimatedStart = Timestamp.FromDateTime(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc)),
            },
        });
    }

    private static bool IsFinal(JobState state) =>
        state is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.TimedOut;

    private void Publish(JobEventType type, Job job, JobState previous) =>
        _events.Publish(new JobEvent
        {
            Type = type,
            Job = job.Clone(),
            PreviousState = previous,
            Time = Timestamp.FromDateTime(DateTime.UtcNow),
            Sequence = (ulong)Interlocked.Increment(ref _sequence),
        });
}
