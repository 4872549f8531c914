using System.Net.Http;
using System.Net.Sockets;
using Mekong.Cli.Client;
using Mekong.Transport;

namespace Mekong.Cli.Tests;

public sealed class ErrorReportTests
{
    private static readonly Uri Server = new("http://127.0.0.1:7070");

    [Theory]
    [InlineData(StatusCode.NotFound, "job 42 not found", "not found: job 42")]
    [InlineData(StatusCode.NotFound, "account 'x' does not exist", "not found: account 'x' does not exist")]
    [InlineData(StatusCode.InvalidArgument, "spec.gpus_per_node: must be at least 1", "invalid argument: spec.gpus_per_node: must be at least 1")]
    [InlineData(StatusCode.PermissionDenied, "bob is not a member of uni-a/vision", "permission denied: bob is not a member of uni-a/vision")]
    [InlineData(StatusCode.FailedPrecondition, "job 2 has already ended\n(cancelled)", "failed precondition: job 2 has already ended (cancelled)")]
    [InlineData(StatusCode.Internal, "", "internal error")]
    public void StatusIsOneLineWithItsCodeInWords(StatusCode code, string detail, string line)
    {
        var (text, exit) = ErrorReport.Describe(new RpcException(code, detail), Server);
        Assert.Equal(line, text);
        Assert.Equal(1, exit);
    }

    [Fact]
    public void UnauthenticatedSaysWhereATokenComesFrom() =>
        Assert.Contains("--token", ErrorReport.Describe(new RpcException(StatusCode.Unauthenticated, "missing bearer token"), Server).Line, StringComparison.Ordinal);

    [Fact]
    public void ConnectionRefusedNamesTheServer()
    {
        var refused = new HttpRequestException("Connection refused (127.0.0.1:7070)", new SocketException((int)SocketError.ConnectionRefused));
        var (line, exit) = ErrorReport.Describe(new RpcException(StatusCode.Unavailable, "Error starting the call: Connection refused", refused), Server);
        Assert.Equal("cannot reach http://127.0.0.1:7070: connection refused", line);
        Assert.Equal(1, exit);
    }

    [Fact]
    public void UsageErrorsExitTwo() => Assert.Equal(("bad", 2), ErrorReport.Describe(new UsageException("bad"), null));

    [Fact]
    public void AnythingElseIsStillOneLine()
    {
        var (line, exit) = ErrorReport.Describe(new InvalidOperationException("boom\nat Foo.Bar()"), null);
        Assert.Equal(1, exit);
        Assert.StartsWith("internal error: InvalidOperationException: boom", line, StringComparison.Ordinal);
    }
}
