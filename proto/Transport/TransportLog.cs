using Microsoft.Extensions.Logging;

namespace Mekong.Transport;

internal static partial class TransportLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "RPC {Method} failed with an unhandled exception")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "RPC {Method} ended with {StatusCode}: {Detail}")]
    public static partial void CallEnded(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "RPC {Method}: could not write the status, the client is gone")]
    public static partial void StatusNotWritten(ILogger logger, string method, Exception exception);
}
