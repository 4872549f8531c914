using System.Threading.Channels;
using Google.Protobuf;

namespace Mekong.Transport;

internal sealed class RequestStreamWriter<TRequest> : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>, new()
{
    private readonly RpcChannel _channel;
    private readonly StreamingRequestContent _content;
    private readonly IDisposableCall _call;

    public RequestStreamWriter(RpcChannel channel, StreamingRequestContent content, IDisposableCall call)
    {
        _channel = channel;
        _content = content;
        _call = call;
    }

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var frame = _channel.Frame(message);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _call.CallToken);
        try
        {
            await _content.WriteAsync(frame, linked.Token).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException("The request stream is complete or the call has ended.", ex);
        }
        catch (OperationCanceledException ex)
        {
            throw _call.Failure(ex, "Error writing a request message");
        }
    }

    public Task CompleteAsync()
    {
        _content.Complete();
        return Task.CompletedTask;
    }
}

/// <summary>What the request writer needs of its call, whatever its message types.</summary>
internal interface IDisposableCall
{
    CancellationToken CallToken { get; }

    RpcException Failure(Exception ex, string what);
}
