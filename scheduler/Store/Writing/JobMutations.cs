using System.Globalization;
using Mekong.Policy;

namespace Mekong.Store.Writing;

/// <summary>A new job: one <c>jobs</c> row (pending) and its first event.</summary>
internal sealed class SubmitJob(JobSpec spec, JobCommand command) : Mutation<JobSpec>
{
    private JobSpec? _stored;

    protected override JobSpec Result => _stored!;

    public override void Assign(StoreWriter writer) => _stored = spec with { Id = new JobId(writer.NextJobId()) };

    public override void Apply(WriteSession session)
    {
        var s = _stored!;
        session.ExecuteDeferred("""
            INSERT INTO jobs (id, project, user_name, name, nodes, gpus_per_node, gpu_type, walltime, cpu_per_node,
                memory_mb_per_node, priority, preemptible, grace_period, requeue, command, env, working_dir, image,
                state, submit_time, borrowing, preemption_count)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17,
                'pending', @p18, 0, @p19)
            """,
            s.Id.Value, s.Project, s.User, s.Name, s.Nodes, s.GpusPerNode, s.GpuType, s.Walltime.Ticks, s.CpuPerNode,
            s.MemoryMbPerNode, StoreCodec.Text(s.Priority), StoreCodec.Bool(s.Preemptible), s.GracePeriod.Ticks,
            StoreCodec.Bool(s.Requeue), StoreCodec.Json(command.Argv), StoreCodec.Json(command.Env), command.WorkingDirectory,
            command.Image, s.SubmitTime.UtcTicks, s.PreemptionCount);
        Events.Append(session, s.Id, s.SubmitTime, JobState.Pending, null);
    }
}

/// <summary>A change of state. The UPDATE names the states it may leave, so a job in any other state (or no
/// job) changes nothing and the caller is refused; a run's start and stop also open and close its usage record.</summary>
internal sealed class TransitionJob(JobTransition t) : Mutation<bool>
{
    protected override bool Result => true;

    public override void Apply(WriteSession session)
    {
        var id = t.Job.Value;
        var at = t.At.UtcTicks;
        var from = FromList(t.To);
        int changed;
        switch (t.To)
        {
            case JobState.Running:
                changed = session.Execute($"""
                    UPDATE jobs SET state = 'running', start_time = @p1, end_time = NULL, allocated_type = @p2,
                        allocations = @p3, borrowing = @p4, exit_code = NULL, reason = NULL
                    WHERE id = @p0 AND nodes = @p5 AND state IN ({from})
                    """, id, at, t.GpuType, StoreCodec.Json(t.Allocations), StoreCodec.Bool(t.Borrowing), t.Allocations.Count);
                if (changed == 0) Refuse(session);
                session.Execute("""
                    INSERT INTO usage_records (job_id, start_time, end_time, project, user_name, gpu_type, gpus, borrowing)
                    SELECT id, @p1, NULL, project, user_name, @p2, nodes * gpus_per_node, @p3 FROM jobs WHERE id = @p0
                    """, id, at, t.GpuType, StoreCodec.Bool(t.Borrowing));
                break;
            case JobState.Held:
                changed = session.Execute($"UPDATE jobs SET state = 'held', reason = @p1 WHERE id = @p0 AND state IN ({from})", id, t.Reason);
                if (changed == 0) Refuse(session);
                break;
            case JobState.Pending:
                changed = session.Execute($"UPDATE jobs SET state = 'pending', reason = NULL WHERE id = @p0 AND state IN ({from})", id);
                if (changed == 0) Refuse(session);
                break;
            default:
                // Ends a run or a wait: succeeded, failed, timed-out, cancelled, preempted (requeued, counted).
                var count = t.To == JobState.Preempted ? "preemption_count + 1" : "preemption_count";
                changed = session.Execute($"""
                    UPDATE jobs SET state = @p1, end_time = @p2, exit_code = @p3, reason = @p4, preemption_count = {count},
                        cancelled_by = @p5
                    WHERE id = @p0 AND state IN ({from})
                    """, id, t.To.ToText(), at, t.ExitCode, t.Reason, t.CancelledBy);
                if (changed == 0) Refuse(session);
                session.Execute("UPDATE usage_records SET end_time = @p1 WHERE job_id = @p0 AND end_time IS NULL", id, at);
                break;
        }
        Events.Append(session, t.Job, t.At, t.To, t.Reason);
    }

    /// <summary>Nothing was written: say why.</summary>
    private void Refuse(WriteSession session)
    {
        var state = session.Scalar("SELECT state FROM jobs WHERE id = @p0", t.Job.Value) as string;
        if (state is null) throw new StoreException($"job {t.Job} does not exist");
        var allowed = JobStates.AllowedFrom(t.To);
        if (t.To == JobState.Running && allowed.Contains(JobStates.Parse(state)))
            throw new StoreException($"job {t.Job}: {t.Allocations.Count} allocations do not match its node count");
        throw new StoreException($"job {t.Job} is {state}; it cannot become {t.To.ToText()} (only from {string.Join(", ", allowed.Select(s => s.ToText()))})");
    }

    // Constants from the enum, never input: safe to inline, and it keeps one statement per target state.
    private static string FromList(JobState to) =>
        string.Join(", ", JobStates.AllowedFrom(to).Select(s => string.Create(CultureInfo.InvariantCulture, $"'{s.ToText()}'")));
}

internal static class Events
{
    public static void Append(WriteSession session, JobId job, DateTimeOffset at, JobState state, string? reason) =>
        session.ExecuteDeferred("INSERT INTO job_events (job_id, at, state, reason) VALUES (@p0, @p1, @p2, @p3)",
            job.Value, at.UtcTicks, state.ToText(), reason);
}
