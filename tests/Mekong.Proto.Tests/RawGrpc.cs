using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace Mekong.Proto.Tests;

/// <summary>Hand-made gRPC requests, for what a well-behaved client never sends.</summary>
internal static class RawGrpc
{
    public static byte[] Frame(IMessage message) => FrameBytes(message.ToByteArray());

    public static byte[] FrameBytes(byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public static HttpRequestMessage Request(string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    /// <summary>grpc-status from the headers (trailers-only) or the trailers.</summary>
    public static string? Status(HttpResponseMessage response) => Get(response, "grpc-status");

    public static string Message(HttpResponseMessage response) => Uri.UnescapeDataString(Get(response, "grpc-message") ?? "");

    private static string? Get(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.First()
        : response.TrailingHeaders.TryGetValues(name, out var trailers) ? trailers.First()
        : null;
}
