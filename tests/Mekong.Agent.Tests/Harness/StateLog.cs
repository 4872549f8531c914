using Mekong.Api.V1;

namespace Mekong.Agent.Tests.Harness;

/// <summary>Every JobStateChange a runner raised, with waits on them.</summary>
internal sealed class StateLog
{
    private readonly List<JobStateChange> _changes = [];
    private readonly Lock _gate = new();

    public void Add(JobStateChange change)
    {
        lock (_gate)
        {
            _changes.Add(change);
        }
    }

    public IReadOnlyList<JobStateChange> Of(string jobId)
    {
        lock (_gate)
        {
            return _changes.Where(c => c.JobId == jobId).ToList();
        }
    }

    /// <summary>The job's first terminal change (anything after RUNNING).</summary>
    public Task<JobStateChange> Final(string jobId, double timeoutSeconds = 30) =>
        WaitFor(jobId, c => c.State is not (AgentJobState.Starting or AgentJobState.Running), timeoutSeconds);

    public async Task<JobStateChange> WaitFor(string jobId, Func<JobStateChange, bool> match, double timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            if (Of(jobId).FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"job {jobId}: no matching state; saw {string.Join(", ", Of(jobId).Select(c => c.State))}");
            }

            await Task.Delay(20);
        }
    }
}
