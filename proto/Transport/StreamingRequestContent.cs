using System.Net;
using System.Threading.Channels;

namespace Mekong.Transport;

/// <summary>
/// A request body written while the response is read (HTTP/2 full duplex): frames queued by the
/// request stream writer go out one by one, each flushed.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent
{
    private readonly Channel<byte[]> _frames = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(8) { SingleReader = true });

    public ValueTask WriteAsync(byte[] frame, CancellationToken cancellationToken) => _frames.Writer.WriteAsync(frame, cancellationToken);

    public void Complete() => _frames.Writer.TryComplete();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        try
        {
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var frame in _frames.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Writers after the body ended (call over, or cancelled) fail instead of waiting forever.
            _frames.Writer.TryComplete();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
