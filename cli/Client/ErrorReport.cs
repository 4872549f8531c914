using System.Net.Http;
using System.Net.Sockets;
using Mekong.Transport;

namespace Mekong.Cli.Client;

/// <summary>
/// Turns what went wrong into one line for stderr and an exit code: <see cref="ExitCodes.Usage"/> for a
/// command line the CLI refuses before calling anyone, <see cref="ExitCodes.Failure"/> for everything the
/// server (or the network) answered. Never a stack trace.
/// </summary>
internal static class ErrorReport
{
    /// <summary>The line (without the "mekong: " prefix) and exit code for an exception.</summary>
    public static (string Line, int ExitCode) Describe(Exception exception, Uri? server)
    {
        switch (exception)
        {
            case UsageException usage:
                return (usage.Message, ExitCodes.Usage);
            case RpcException rpc:
                return (DescribeStatus(rpc, server), ExitCodes.Failure);
            case OperationCanceledException:
                return ("cancelled", ExitCodes.Cancelled);
            case IOException or UnauthorizedAccessException:
                return (exception.Message, ExitCodes.Failure);
            default:
                return ($"internal error: {exception.GetType().Name}: {exception.Message}", ExitCodes.Failure);
        }
    }

    /// <summary>A status as "&lt;code in words&gt;: &lt;detail&gt;", or "cannot reach URL: why" when no server answered.</summary>
    public static string DescribeStatus(RpcException rpc, Uri? server)
    {
        if (rpc.StatusCode == StatusCode.Unavailable && Unreachable(rpc) is { } why)
        {
            return $"cannot reach {Display(server)}: {why}";
        }

        if (rpc.StatusCode == StatusCode.DeadlineExceeded && rpc.InnerException is not null)
        {
            return $"{Display(server)} did not answer within {(int)MekongConnection.UnaryTimeout.TotalSeconds}s";
        }

        var words = Words(rpc.StatusCode);
        var detail = OneLine(rpc.Detail);
        // "job 42 not found" reads "not found: job 42", not "not found: job 42 not found".
        if (detail.EndsWith(" " + words, StringComparison.OrdinalIgnoreCase)) detail = detail[..^(words.Length + 1)];
        var line = detail.Length == 0 ? words
            : detail.StartsWith(words, StringComparison.OrdinalIgnoreCase) ? detail
            : $"{words}: {detail}";
        if (rpc.StatusCode == StatusCode.Unauthenticated)
        {
            line += " (give a token with --token, MEKONG_TOKEN or a config file)";
        }

        return line;
    }

    /// <summary>The status code in lower-case words, as the error line begins.</summary>
    public static string Words(StatusCode code) => code switch
    {
        StatusCode.OK => "ok",
        StatusCode.Cancelled => "cancelled",
        StatusCode.InvalidArgument => "invalid argument",
        StatusCode.DeadlineExceeded => "deadline exceeded",
        StatusCode.NotFound => "not found",
        StatusCode.AlreadyExists => "already exists",
        StatusCode.PermissionDenied => "permission denied",
        StatusCode.ResourceExhausted => "resource exhausted",
        StatusCode.FailedPrecondition => "failed precondition",
        StatusCode.Aborted => "aborted",
        StatusCode.OutOfRange => "out of range",
        StatusCode.Unimplemented => "unimplemented",
        StatusCode.Internal => "internal error",
        StatusCode.Unavailable => "unavailable",
        StatusCode.DataLoss => "data loss",
        StatusCode.Unauthenticated => "unauthenticated",
        _ => "unknown error",
    };

    // The transport wraps a failed connection as UNAVAILABLE with the HttpRequestException inside; say
    // what the socket said, in the words of `curl` and `ssh`.
    private static string? Unreachable(RpcException rpc)
    {
        for (Exception? e = rpc.InnerException; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                    SocketError.ConnectionReset => "connection reset",
                    _ => OneLine(socket.Message).ToLowerInvariant(),
                };
            }
        }

        for (Exception? e = rpc.InnerException; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException http)
            {
                // For example an HTTP/1.1-only server answering the HTTP/2 preface.
                return OneLine(http.Message);
            }
        }

        return null;
    }

    private static string Display(Uri? server) => server is null ? "the server" : server.GetLeftPart(UriPartial.Authority);

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
