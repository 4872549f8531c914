using System.Collections.Concurrent;
using System.Globalization;
using Mekong.Api.V1;
using Mekong.Policy;
using Mekong.Scheduler.Core;
using Mekong.Scheduler.Events;
using Mekong.Scheduler.Identity;
using Mekong.Store;
using Mekong.Transport;
using JobState = Mekong.Api.V1.JobState;

namespace Mekong.Scheduler.Services;

/// <summary>mekong.v1.JobService: submissions are committed before they are acknowledged; reads come from the
/// live scheduler for jobs it holds and from the store for history.</summary>
internal sealed class JobApi(SchedulerCore core, MekongStore store, Authenticator auth, Access access, JobEventHub events, Logs.JobLogStore logs,
    SchedulerOptions options, TimeProvider time)
{
    private const int MaxRememberedRequests = 100_000;
    private readonly ConcurrentDictionary<(string User, string RequestId), Task<Policy.JobSpec>> _requests = new();

    public RpcServiceDefinition Definition() => RpcServiceDefinition.For(JobServiceRpc.Descriptor)
        .Unary(JobServiceRpc.SubmitJob, SubmitAsync)
        .Unary(JobServiceRpc.GetJob, GetAsync)
        .Unary(JobServiceRpc.ListJobs, ListAsync)
        .Unary(JobServiceRpc.CancelJob, CancelAsync)
        .ServerStreaming(JobServiceRpc.WatchJob, WatchJobAsync)
        .ServerStreaming(JobServiceRpc.WatchProject, WatchProjectAsync)
        .Unary(JobServiceRpc.ExplainJob, ExplainAsync)
        .ServerStreaming(JobServiceRpc.ReadJobLogs, ReadLogsAsync)
        .Build();

    private async Task<SubmitJobResponse> SubmitAsync(SubmitJobRequest request, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        var (spec, command) = SubmitValidator.Validate(request, caller.User, core.Catalog, options, time.GetUtcNow());
        access.RequireMember(caller, spec.Project);
        Task<Policy.JobSpec> submission;
        if (request.RequestId.Length > 0)
        {
            // A retried submission with the same key returns the first job (kept in memory: retries come within seconds).
            if (_requests.Count > MaxRememberedRequests) _requests.Clear();
            var fresh = false;
            submission = _requests.GetOrAdd((caller.User, request.RequestId), _ =>
            {
                fresh = true;
                return store.Writer.SubmitAsync(spec, command);
            });
            if (!fresh) return new SubmitJobResponse { Job = await JobAsync(await submission.ConfigureAwait(false)).ConfigureAwait(false) };
        }
        else submission = store.Writer.SubmitAsync(spec, command);
        Policy.JobSpec stored;
        try
        {
            stored = await submission.ConfigureAwait(false);
        }
        catch (StoreException e)
        {
            if (request.RequestId.Length > 0) _requests.TryRemove((caller.User, request.RequestId), out _);
            throw new RpcException(StatusCode.InvalidArgument, e.Message);
        }
        core.Submitted(stored, command);
        return new SubmitJobResponse { Job = ProtoMapping.ToProto(new StoredJob(stored, command, Store.JobState.Pending), null) };
    }

    private async Task<GetJobResponse> GetAsync(GetJobRequest request, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        return new GetJobResponse { Job = ToProto(await VisibleJobAsync(caller, request.Id).ConfigureAwait(false)) };
    }

    private async Task<ListJobsResponse> ListAsync(ListJobsRequest request, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        var size = request.PageSize == 0 ? 100 : (int)Math.Min(request.PageSize, 1000);
        long? before = null;
        if (request.PageToken.Length > 0)
        {
            if (!long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b <= 0)
                throw SubmitValidator.Invalid("page_token", "is not a token from a previous response");
            before = b;
        }
        var states = new List<Store.JobState>();
        foreach (var s in request.States)
            states.Add(ProtoMapping.FromProto(s) ?? throw SubmitValidator.Invalid("states", $"{s} is not a job state"));
        var query = new JobQuery(access.VisibleProjects(caller, request.Project), states, request.User.Length > 0 ? request.User : null, before, size + 1);
        var jobs = await store.ListJobsAsync(query, context.CancellationToken).ConfigureAwait(false);
        var page = jobs.Take(size).ToArray();
        var waiting = page.Where(j => j.State.IsWaiting()).Select(j => j.Id).ToArray();
        var explanations = waiting.Length == 0 ? [] : await core.ExplainAsync(waiting).ConfigureAwait(false);
        var response = new ListJobsResponse();
        foreach (var j in page) response.Jobs.Add(ProtoMapping.ToProto(j, explanations.GetValueOrDefault(j.Id), core.Now));
        if (jobs.Count > size) response.NextPageToken = page[^1].Id.Value.ToString(CultureInfo.InvariantCulture);
        return response;
    }

    private async Task<CancelJobResponse> CancelAsync(CancelJobRequest request, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        var job = (await VisibleJobAsync(caller, request.Id).ConfigureAwait(false)).Job;
        if (!access.CanCancel(caller, job))
            throw new RpcException(StatusCode.PermissionDenied, $"{caller.User} may not cancel job {job.Id}: it belongs to {job.Spec.User} in {job.Spec.Project}");
        if (!job.State.IsLive()) throw new RpcException(StatusCode.FailedPrecondition, $"job {job.Id} has already ended ({job.State.ToText()})");
        if (request.Reason.Length > 1024) throw SubmitValidator.Invalid("reason", "must be at most 1024 characters");
        var cancelled = await core.CancelAsync(job.Id, caller.User, request.Reason).ConfigureAwait(false);
        return new CancelJobResponse { Job = ProtoMapping.ToProto(cancelled, null) };
    }

    private async Task<ExplainJobResponse> ExplainAsync(ExplainJobRequest request, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        var (job, explanation, _, _) = await VisibleJobAsync(caller, request.Id).ConfigureAwait(false);
        var response = new ExplainJobResponse { Id = ProtoMapping.JobIdText(job.Id), State = ProtoMapping.ToProto(job.State) };
        if (explanation is not null && job.State.IsWaiting()) response.Explanation = ProtoMapping.ToProto(explanation, core.Now);
        return response;
    }

    private async Task WatchJobAsync(WatchJobRequest request, IServerStreamWriter<Mekong.Api.V1.JobEvent> stream, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        if (!ProtoMapping.TryParseJobId(request.Id, out var id)) throw SubmitValidator.Invalid("id", $"'{request.Id}' is not a job id");
        var idText = ProtoMapping.JobIdText(id);
        // Subscribe before reading the snapshot, so nothing falls between them.
        using var subscription = events.Subscribe(e => e.Job.Id == idText);
        var snapshot = ToProto(await VisibleJobAsync(caller, request.Id).ConfigureAwait(false));
        await stream.WriteAsync(new Mekong.Api.V1.JobEvent { Type = JobEventType.Snapshot, Job = snapshot, Time = Now() }, context.CancellationToken).ConfigureAwait(false);
        if (IsFinal(snapshot.State)) return;
        await foreach (var e in ReadAsync(subscription, context.CancellationToken).ConfigureAwait(false))
        {
            // The submission may be published after a watch began right behind the acknowledgement: the snapshot has it.
            if (e.Type == JobEventType.Submitted) continue;
            await stream.WriteAsync(e, context.CancellationToken).ConfigureAwait(false);
            if (IsFinal(e.Job.State)) return;
        }
    }

    private async Task WatchProjectAsync(WatchProjectRequest request, IServerStreamWriter<Mekong.Api.V1.JobEvent> stream, CallContext context)
    {
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        if (request.Project.Length == 0) throw SubmitValidator.Invalid("project", "is required");
        if (!core.Catalog.Accounts.ContainsKey(request.Project)) throw new RpcException(StatusCode.NotFound, $"project '{request.Project}' does not exist");
        access.RequireMember(caller, request.Project);
        var states = request.States.ToHashSet();
        var project = request.Project;
        using var subscription = events.Subscribe(e => Membership.Covers(project, e.Job.Spec.Project) && (states.Count == 0 || states.Contains(e.Job.State)));
        // Headers now: the watcher knows its subscription is in place before any event.
        await context.WriteResponseHeadersAsync().ConfigureAwait(false);
        await foreach (var e in ReadAsync(subscription, context.CancellationToken).ConfigureAwait(false))
            await stream.WriteAsync(e, context.CancellationToken).ConfigureAwait(false);
    }

    private static async IAsyncEnumerable<Mekong.Api.V1.JobEvent> ReadAsync(JobEventHub.Subscription subscription,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await subscription.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            while (subscription.Reader.TryRead(out var e)) yield return e;
        if (subscription.Overflowed) throw new RpcException(StatusCode.ResourceExhausted, "the watcher fell too far behind and was cut off; watch again");
    }

    private async Task ReadLogsAsync(ReadJobLogsRequest request, IServerStreamWriter<JobLogChunk> stream, CallContext context)
    {
        const int ChunkBytes = 64 * 1024;
        var caller = await auth.AuthenticateAsync(context).ConfigureAwait(false);
        Access.RequireUser(caller);
        var view = await VisibleJobAsync(caller, request.Id).ConfigureAwait(false);
        var attempt = request.Attempt == 0 ? view.Attempt : request.Attempt;
        if (attempt > view.Attempt) throw SubmitValidator.Invalid("attempt", $"job {view.Job.Id} has had {view.Attempt} runs at most");
        if (request.Rank >= Math.Max(1, view.Job.Spec.Nodes)) throw SubmitValidator.Invalid("rank", $"job {view.Job.Id} has {view.Job.Spec.Nodes} ranks");
        var stderr = request.Stream == OutputStream.Stderr;
        var offset = (long)Math.Min(request.Offset, long.MaxValue);
        // A run that is not live any more (ended, or before this scheduler's restart) has all it will ever have.
        var live = view.Job.State == Store.JobState.Running && attempt == view.Attempt;
        while (true)
        {
            var data = logs.Read(view.Job.Id, attempt, (int)request.Rank, stderr, offset, ChunkBytes);
            if (data.Length > 0)
            {
                await stream.WriteAsync(new JobLogChunk { Offset = (ulong)offset, Data = Google.Protobuf.ByteString.CopyFrom(data), Attempt = attempt }, context.CancellationToken).ConfigureAwait(false);
                offset += data.Length;
                continue;
            }
            if (!request.Follow || !live || logs.HasEnded(view.Job.Id, attempt)) return;
            await logs.WaitAsync(view.Job.Id, attempt, (int)request.Rank, stderr, TimeSpan.FromSeconds(1), context.CancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsFinal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.TimedOut;

    private Google.Protobuf.WellKnownTypes.Timestamp Now() => Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow());

    /// <summary>The job if the caller may see it: live (with its explanation) or from history. Jobs the caller may
    /// not see are NOT_FOUND, as if they did not exist.</summary>
    private async Task<LiveJobView> VisibleJobAsync(Caller caller, string idText)
    {
        if (!ProtoMapping.TryParseJobId(idText, out var id)) throw SubmitValidator.Invalid("id", $"'{idText}' is not a job id");
        var found = await core.GetLiveAsync(id).ConfigureAwait(false);
        if (found is null && await store.GetJobAsync(id).ConfigureAwait(false) is { } stored)
            found = new LiveJobView(stored, null, null, (uint)stored.Spec.PreemptionCount + 1);
        if (found is null || !access.CanSee(caller, found.Job)) throw new RpcException(StatusCode.NotFound, $"job {idText} not found");
        return found;
    }

    private Job ToProto(LiveJobView view)
    {
        var job = ProtoMapping.ToProto(view.Job, view.Explanation, core.Now);
        if (view.Usage is not null) job.Usage = view.Usage;
        return job;
    }

    private async Task<Job> JobAsync(Policy.JobSpec spec)
    {
        var found = await core.GetLiveAsync(spec.Id).ConfigureAwait(false);
        if (found is not null) return ToProto(found);
        var stored = await store.GetJobAsync(spec.Id).ConfigureAwait(false);
        return ProtoMapping.ToProto(stored!, null);
    }
}
