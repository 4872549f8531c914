using Mekong.Policy.Jobs;

namespace Mekong.Policy;

/// <summary>Proofs carried from one decision to the next, so that <see cref="Decide"/> after a single event
/// re-proves only what the event could have changed. Each proof is stamped with the versions of the state it
/// read; an event that could turn the proof false bumps one of those versions, and the proof is made again.</summary>
/// <remarks>Versions only count up. What can make a failed priority search succeed is more room on a node
/// running one of the project's low jobs: a tenant leaving, a tenant told to stop (stopping jobs count as
/// free), the node coming up or changing shape — all go through <see cref="CapacityMayGrow(int)"/> — or the
/// project starting a low job (a new node to search). A gang may also use any node of its type with room.</remarks>
public sealed partial class PolicyEngine
{
    /// <summary>Per GPU type: bumped whenever any node of the type may have gained room.</summary>
    private readonly long[] _typeRoomVersion = new long[GpuTypeTable.MaxTypes];

    /// <summary>Per account: bumped when a node running one of its low jobs may have gained room, or when it starts a low job.</summary>
    private long[] _projectRoomVersion = [];

    /// <summary>Bumped whenever any node may have gained room.</summary>
    private long _anyRoomVersion;

    /// <summary>Per project: no high job can displace a low one, with the versions that proof read (the queue's,
    /// the project's, <see cref="_anyRoomVersion"/>) and how many room events its gangs' failures survive.</summary>
    private readonly Dictionary<int, (long Project, long Queue, long AnyRoom, long Slack)> _noPriorityCarried = [];

    /// <summary>Priority-preemption searches that failed ignoring every claim, with the versions they read and,
    /// for a gang, how many nodes it found (fewer than it needs).</summary>
    private readonly Dictionary<(int Project, ShapeKey Shape), (long Project, long Type, int NodesFound)> _priorityFailedCarried = [];

    private ref long ProjectRoomVersion(int project)
    {
        if (_projectRoomVersion.Length <= project) Array.Resize(ref _projectRoomVersion, Math.Max(project + 1, _projectRoomVersion.Length * 2));
        return ref _projectRoomVersion[project];
    }

    /// <summary>The node may have more room than before (a tenant left or was told to stop, or its state or
    /// shape changed): every project with a low job on it, and its GPU type, see a new version.</summary>
    private void CapacityMayGrow(int node)
    {
        _typeRoomVersion[_cluster.TypeOf(node)]++;
        _anyRoomVersion++;
        foreach (var tenant in _cluster.Tenants(node))
            if (tenant.Job.Spec.Priority == JobPriority.Low) ProjectRoomVersion(tenant.Job.Project)++;
    }

    private void CapacityMayGrow(Job job)
    {
        foreach (var node in job.Nodes) CapacityMayGrow(node);
    }

    /// <summary>A job started: if low, a priority search of its project has one more node to look at.</summary>
    private void ProjectStarted(Job job)
    {
        if (job.Spec.Priority == JobPriority.Low) ProjectRoomVersion(job.Project)++;
    }

    private bool PriorityFailureCarried(int project, ShapeKey shape) => PriorityFailureSlack(project, shape) >= 0;

    /// <summary>How many more room events on its type the project's failed priority search for the shape survives
    /// (long.MaxValue: any number; -1: not carried). A single-node search reads only the nodes running the
    /// project's low jobs (more room there bumps the project's version). A gang also takes any node of the type
    /// with room, but a node's fitness depends on that node alone: each room event adds at most one node to the
    /// fewer-than-needed it found, so the failure holds until they could add up to the gang.</summary>
    private long PriorityFailureSlack(int project, ShapeKey shape)
    {
        if (!_priorityFailedCarried.TryGetValue((project, shape), out var seen) || seen.Project != ProjectRoomVersion(project)) return -1;
        if (shape.Nodes == 1) return long.MaxValue;
        var slack = shape.Nodes - 1 - seen.NodesFound - (_typeRoomVersion[shape.Type] - seen.Type);
        return slack >= 0 ? slack : -1;
    }

    private void CarryPriorityFailure(int project, ShapeKey shape, int nodesFound) =>
        _priorityFailedCarried[(project, shape)] = (ProjectRoomVersion(project), _typeRoomVersion[shape.Type], nodesFound);

    /// <summary>Whether an earlier decision proved every high group of the project unable to displace its low
    /// jobs (each failed ignoring claims, or it ran no low job), and neither its queue nor the room it read has
    /// changed past what those failures survive (room events anywhere count against the gangs' least slack).</summary>
    private bool NoPriorityPreemptionCarried(Accounts.Account project) =>
        _noPriorityCarried.TryGetValue(project.Index, out var seen)
        && seen.Project == ProjectRoomVersion(project.Index)
        && seen.Queue == project.Queue.Version
        && _anyRoomVersion - seen.AnyRoom <= seen.Slack;

    private void CarryNoPriorityPreemption(Accounts.Account project, long slack) =>
        _noPriorityCarried[project.Index] = (ProjectRoomVersion(project.Index), project.Queue.Version, _anyRoomVersion, slack);
}
