using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mekong.Agent;

/// <summary>The hosted agent: one <see cref="NodeAgent"/> for this machine. Stopping the service leaves jobs running.</summary>
internal sealed class AgentWorker(AgentOptions options, ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A configuration the node cannot honour (bwrap missing) stops the host with the reason logged.
        using var agent = new NodeAgent(options, loggers);
        await agent.RunAsync(stoppingToken).ConfigureAwait(false);
    }
}
