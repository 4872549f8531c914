using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Mekong.Policy;
using Mekong.Scheduler.Core;
using Mekong.Store;
using V1 = Mekong.Api.V1;

namespace Mekong.Scheduler;

/// <summary>Policy and store types to and from the API's protobuf messages. The only place both meet.</summary>
internal static class ProtoMapping
{
    public static string JobIdText(JobId id) => id.Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses "42" (or "j-42", as people sometimes write it).</summary>
    public static bool TryParseJobId(string? text, out JobId id)
    {
        id = default;
        if (string.IsNullOrEmpty(text)) return false;
        var digits = text.StartsWith("j-", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0) return false;
        id = new JobId(value);
        return true;
    }

    public static V1.JobState ToProto(Store.JobState state) => state switch
    {
        Store.JobState.Pending => V1.JobState.Pending,
        Store.JobState.Running => V1.JobState.Running,
        Store.JobState.Succeeded => V1.JobState.Succeeded,
        Store.JobState.Failed => V1.JobState.Failed,
        Store.JobState.Cancelled => V1.JobState.Cancelled,
        Store.JobState.TimedOut => V1.JobState.TimedOut,
        Store.JobState.Preempted => V1.JobState.Preempted,
        Store.JobState.Held => V1.JobState.Held,
        _ => V1.JobState.Unspecified,
    };

    public static Store.JobState? FromProto(V1.JobState state) => state switch
    {
        V1.JobState.Pending => Store.JobState.Pending,
        V1.JobState.Running => Store.JobState.Running,
        V1.JobState.Succeeded => Store.JobState.Succeeded,
        V1.JobState.Failed => Store.JobState.Failed,
        V1.JobState.Cancelled => Store.JobState.Cancelled,
        V1.JobState.TimedOut => Store.JobState.TimedOut,
        V1.JobState.Preempted => Store.JobState.Preempted,
        V1.JobState.Held => Store.JobState.Held,
        _ => null,
    };

    public static V1.Job ToProto(StoredJob job, PendingExplanation? explanation, DateTimeOffset? computedAt = null)
    {
        var s = job.Spec;
        var spec = new V1.JobSpec
        {
            Project = s.Project,
            Name = s.Name,
            Nodes = (uint)s.Nodes,
            GpusPerNode = (uint)s.GpusPerNode,
            GpuType = s.GpuType ?? "",
            CpusPerNode = (uint)s.CpuPerNode,
            MemoryBytesPerNode = (ulong)s.MemoryMbPerNode * 1024 * 1024,
            Walltime = Duration.FromTimeSpan(s.Walltime),
            Priority = s.Priority switch
            {
                JobPriority.Low => V1.Priority.Low,
                JobPriority.High => V1.Priority.High,
                _ => V1.Priority.Normal,
            },
            Preemptible = s.Preemptible,
            ContainerImage = job.Command.Image ?? "",
            WorkingDir = job.Command.WorkingDirectory ?? "",
            GracePeriod = Duration.FromTimeSpan(s.GracePeriod),
        };
        spec.Command.AddRange(job.Command.Argv);
        foreach (var (k, v) in job.Command.Env) spec.Env[k] = v;
        var result = new V1.Job
        {
            Id = JobIdText(job.Id),
            Spec = spec,
            User = s.User,
            State = ToProto(job.State),
            SubmitTime = Timestamp.FromDateTimeOffset(s.SubmitTime),
            PreemptionCount = (uint)s.PreemptionCount,
            Borrowing = job.State == Store.JobState.Running && job.Borrowing,
            StateMessage = job.Reason ?? "",
            ExitCode = job.ExitCode ?? 0,
        };
        if (job.StartTime is { } start) result.StartTime = Timestamp.FromDateTimeOffset(start);
        if (job.EndTime is { } end && job.State is not (Store.JobState.Running or Store.JobState.Pending or Store.JobState.Preempted or Store.JobState.Held))
            result.EndTime = Timestamp.FromDateTimeOffset(end);
        if (job.State == Store.JobState.Running)
            for (var rank = 0; rank < job.Allocations.Count; rank++)
            {
                var a = new V1.Allocation { Node = job.Allocations[rank].Node, Rank = (uint)rank };
                a.GpuIndices.AddRange(job.Allocations[rank].GpuIndices.Select(i => (uint)i));
                result.Allocations.Add(a);
            }
        if (job.State == Store.JobState.Cancelled && job.CancelledBy is { } by) result.CancelledBy = by;
        if (explanation is not null && job.State.IsWaiting()) result.Explanation = ToProto(explanation, computedAt);
        return result;
    }

    /// <summary>A run's usage summed over its nodes' latest samples; null when none has arrived.</summary>
    public static V1.JobUsage? Usage(IEnumerable<V1.UsageSample> samples)
    {
        V1.JobUsage? usage = null;
        var gpus = new List<float>();
        foreach (var s in samples)
        {
            usage ??= new V1.JobUsage();
            usage.CpuSeconds += s.CpuSeconds;
            usage.MemoryBytes += s.MemoryBytes;
            gpus.AddRange(s.Gpus.Select(g => g.UtilizationPercent));
            if (s.Time is { } t && (usage.SampledAt is null || t.ToDateTimeOffset() > usage.SampledAt.ToDateTimeOffset())) usage.SampledAt = t;
        }
        if (usage is not null && gpus.Count > 0) usage.GpuUtilizationPercent = gpus.Average();
        return usage;
    }

    public static V1.Explanation ToProto(PendingExplanation e, DateTimeOffset? computedAt)
    {
        var x = new V1.Explanation
        {
            Reason = e.Reason switch
            {
                PendingReasonKind.Priority => V1.PendingReason.Priority,
                PendingReasonKind.Resources => V1.PendingReason.Resources,
                PendingReasonKind.QuotaLimit => V1.PendingReason.QuotaLimit,
                PendingReasonKind.Budget => V1.PendingReason.Budget,
                PendingReasonKind.Reserved => V1.PendingReason.Reserved,
                PendingReasonKind.Held => V1.PendingReason.Held,
                PendingReasonKind.NodeTypeUnavailable => V1.PendingReason.NodeTypeUnavailable,
                PendingReasonKind.Unsatisfiable => V1.PendingReason.Unsatisfiable,
                _ => V1.PendingReason.Unspecified,
            },
            ReasonCode = e.Reason.ToWire(),
            Message = e.Message,
            Account = e.Account,
            GpuType = e.GpuType ?? "",
            GpusRequested = e.Requested,
        };
        if (e.Reason == PendingReasonKind.Budget)
        {
            x.BudgetUsedGpuHours = e.Held;
            x.BudgetGpuHours = e.Cap;
        }
        else
        {
            x.GpusInUse = e.Held;
            x.GpusBound = e.Cap;
        }
        if (e.EstimatedStart is { } start) x.EstimatedStart = Timestamp.FromDateTimeOffset(start);
        if (computedAt is { } at) x.ComputedAt = Timestamp.FromDateTimeOffset(at);
        return x;
    }

    public static V1.Node ToProto(NodeInfo node, int allocated, IEnumerable<string> jobIds)
    {
        var n = new V1.Node
        {
            Name = node.Spec.Name,
            GpuType = node.Spec.GpuType,
            GpuCount = (uint)node.Spec.Gpus,
            GpusAllocated = (uint)allocated,
            CpuCores = (uint)node.Spec.CpuCores,
            MemoryBytes = (ulong)node.Spec.MemoryMb * 1024 * 1024,
            TopologyBlock = node.Spec.Block,
            State = node.State switch
            {
                Policy.NodeState.Up => V1.NodeState.Up,
                Policy.NodeState.Draining => V1.NodeState.Draining,
                _ => V1.NodeState.Down,
            },
            DrainReason = node.DrainReason ?? "",
            AgentVersion = node.AgentVersion,
            LastHeartbeat = Timestamp.FromDateTimeOffset(node.LastSeen),
        };
        n.JobIds.AddRange(jobIds);
        return n;
    }

    /// <summary>An account's kind when none is set: organisations at depth 1, projects deeper.</summary>
    public static AccountKind InferredKind(string path) =>
        path.Contains('/', StringComparison.Ordinal) ? AccountKind.Project : AccountKind.Organisation;

    public static V1.Account ToProto(AccountView view)
    {
        var spec = view.Spec ?? new AccountSpec(view.Path);
        var a = new V1.Account
        {
            Path = view.Path,
            Kind = view.Path.Length == 0 ? V1.AccountKind.Root : (spec.Kind ?? InferredKind(view.Path)) == AccountKind.Project ? V1.AccountKind.Project : V1.AccountKind.Organisation,
            DisplayName = view.Path.Length == 0 ? "root" : spec.DisplayName ?? spec.Name,
            OrganisationClass = spec.OrganisationClass switch
            {
                OrganisationClass.Academic => V1.OrganisationClass.Academic,
                OrganisationClass.Government => V1.OrganisationClass.Government,
                OrganisationClass.Enterprise => V1.OrganisationClass.Enterprise,
                _ => V1.OrganisationClass.Unspecified,
            },
            Shares = (uint)spec.Shares,
            AllowPriorityPreemption = spec.PriorityPreemption,
            DecayedUsage = view.DecayedUsage,
        };
        foreach (var type in spec.Guarantee.Keys.Concat(spec.Limit.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            var q = new V1.GpuQuota { GpuType = type, Guarantee = (uint)spec.Guarantee.GetValueOrDefault(type) };
            if (spec.Limit.TryGetValue(type, out var limit)) q.Limit = (uint)limit;
            a.Quotas.Add(q);
        }
        if (spec.Budget is { } b)
            a.Budget = new V1.Budget
            {
                GpuHours = b.GpuHours,
                Period = b.Period switch
                {
                    BudgetPeriod.Month => V1.BudgetPeriod.Month,
                    BudgetPeriod.Quarter => V1.BudgetPeriod.Quarter,
                    _ => V1.BudgetPeriod.Year,
                },
                OnExhausted = b.OnExhausted == BudgetAction.Scavenge ? V1.OnExhausted.Scavenge : V1.OnExhausted.Hold,
                UsedGpuHours = view.BudgetUsedGpuHours,
            };
        foreach (var (type, n) in view.Used) a.GpusInUse[type] = (uint)n;
        return a;
    }

    public static V1.ApiToken ToProto(ApiToken token)
    {
        var t = new V1.ApiToken
        {
            Id = token.Id,
            User = token.Subject,
            Description = token.Name,
            CreatedAt = Timestamp.FromDateTimeOffset(token.Created),
            Revoked = token.IsRevoked,
        };
        if (token.Expires is { } expires) t.ExpiresAt = Timestamp.FromDateTimeOffset(expires);
        t.Roles.AddRange(token.Roles);
        return t;
    }

    public static V1.Member ToProto(Member m) => new()
    {
        Account = m.Account,
        User = m.User,
        Role = m.Role switch
        {
            "member" => V1.Role.Member,
            "project-admin" => V1.Role.ProjectAdmin,
            "org-admin" => V1.Role.OrgAdmin,
            _ => V1.Role.Unspecified,
        },
    };
}
