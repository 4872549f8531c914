using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Cli.Client;

/// <summary>
/// One connection to the scheduler for one command: the channel, the typed clients and the call
/// options (the bearer token as <c>authorization</c> metadata, a deadline for unary calls, the
/// command's cancellation).
/// </summary>
internal sealed class MekongConnection : IDisposable
{
    /// <summary>How long a unary call may take before the CLI gives up: long enough for a busy server,
    /// short enough that a hung one does not hang a script.</summary>
    public static readonly TimeSpan UnaryTimeout = TimeSpan.FromSeconds(30);

    private readonly RpcChannel _channel;
    private readonly Metadata? _headers;
    private readonly CancellationToken _cancellation;

    public MekongConnection(ClientSettings settings, CancellationToken cancellation)
    {
        Settings = settings;
        _cancellation = cancellation;
        _channel = new RpcChannel(settings.Server);
        if (settings.Token is { } token)
        {
            _headers = new Metadata().Add("authorization", "Bearer " + token);
        }

        Jobs = new JobServiceClient(_channel);
        Admin = new AdminServiceClient(_channel);
    }

    public ClientSettings Settings { get; }

    public JobServiceClient Jobs { get; }

    public AdminServiceClient Admin { get; }

    /// <summary>Options for a unary call.</summary>
    public CallOptions Unary() => new() { Headers = _headers, Deadline = DateTime.UtcNow + UnaryTimeout, CancellationToken = _cancellation };

    /// <summary>Options for a stream: no deadline (a watch may last for days), cancelled with the command.</summary>
    public CallOptions Stream() => new() { Headers = _headers, CancellationToken = _cancellation };

    public void Dispose() => _channel.Dispose();
}
