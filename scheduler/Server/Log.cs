using Microsoft.Extensions.Logging;

namespace Mekong.Scheduler;

/// <summary>The scheduler's log lines, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Scheduler listening on {Address} with store {Backend}; restored {Jobs} live jobs, {Nodes} nodes, {Accounts} accounts")]
    public static partial void Started(ILogger logger, Uri address, string backend, int jobs, int nodes, int accounts);

    [LoggerMessage(2, LogLevel.Information, "Agent {Node} connected ({Gpus} {GpuType} GPUs, block {Block})")]
    public static partial void AgentConnected(ILogger logger, string node, int gpus, string gpuType, string block);

    [LoggerMessage(3, LogLevel.Information, "Agent {Node} disconnected")]
    public static partial void AgentDisconnected(ILogger logger, string node);

    [LoggerMessage(4, LogLevel.Warning, "Node {Node} is down: no word from its agent for {Seconds:F0} s; {Lost} jobs lost")]
    public static partial void NodeDown(ILogger logger, string node, double seconds, int lost);

    [LoggerMessage(5, LogLevel.Error, "Scheduler loop step failed")]
    public static partial void LoopFailed(ILogger logger, Exception error);

    [LoggerMessage(6, LogLevel.Error, "Recording a state change of job {Job} failed")]
    public static partial void RecordFailed(ILogger logger, long job, Exception error);

    [LoggerMessage(7, LogLevel.Warning, "Agent {Node} refused command {Sequence}: {Message}")]
    public static partial void CommandRefused(ILogger logger, string node, ulong sequence, string message);
}
