using System.Globalization;
using Mekong.Api.V1;

namespace Mekong.Agent.Execution;

/// <summary>
/// A job's environment. Not the agent's own: a job sees PATH (the agent's, unless the job sets one),
/// HOME, USER, its StartJob.env, and the agent's variables, which win over the job's:
/// CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES (exactly the GPUs given), MEKONG_JOB_ID,
/// MEKONG_ATTEMPT, MEKONG_NODE_NAME and, for gangs, MASTER_ADDR, MASTER_PORT, WORLD_SIZE (nodes),
/// NODE_RANK, MEKONG_NUM_NODES, MEKONG_NODE_NAMES. RANK is left to the launcher (torchrun sets it per
/// process; a node-level RANK would mislead it).
/// </summary>
public static class JobEnvironment
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static Dictionary<string, string> Build(StartJob job, string nodeName, string home, string? user)
    {
        ArgumentNullException.ThrowIfNull(job);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? DefaultPath,
            ["HOME"] = home,
        };
        if (!string.IsNullOrEmpty(user))
        {
            env["USER"] = user;
            env["LOGNAME"] = user;
        }

        foreach (var (key, value) in job.Env)
        {
            env[key] = value;
        }

        var gpus = string.Join(',', job.GpuIndices.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        env["CUDA_VISIBLE_DEVICES"] = gpus;
        // The NVIDIA container runtime reads "none" as no GPUs (an empty value would mean "not managed").
        env["NVIDIA_VISIBLE_DEVICES"] = gpus.Length > 0 ? gpus : "none";
        env["MEKONG_JOB_ID"] = job.JobId;
        env["MEKONG_ATTEMPT"] = job.Attempt.ToString(CultureInfo.InvariantCulture);
        env["MEKONG_NODE_NAME"] = nodeName;
        if (job.Gang is { } gang)
        {
            env["MASTER_ADDR"] = gang.MasterAddr;
            env["MASTER_PORT"] = gang.MasterPort.ToString(CultureInfo.InvariantCulture);
            env["WORLD_SIZE"] = gang.Size.ToString(CultureInfo.InvariantCulture);
            env["NODE_RANK"] = gang.Rank.ToString(CultureInfo.InvariantCulture);
            env["MEKONG_NUM_NODES"] = gang.Size.ToString(CultureInfo.InvariantCulture);
            env["MEKONG_NODE_RANK"] = gang.Rank.ToString(CultureInfo.InvariantCulture);
            env["MEKONG_NODE_NAMES"] = string.Join(',', gang.NodeNames);
        }
        else
        {
            env["MEKONG_NUM_NODES"] = "1";
        }

        return env;
    }
}
