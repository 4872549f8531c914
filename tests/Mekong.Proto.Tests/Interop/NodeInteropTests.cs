namespace Mekong.Proto.Tests.Interop;

/// <summary>@grpc/grpc-js (pure JavaScript HTTP/2) calls the transport on real Kestrel.</summary>
[Collection(InteropGroup.Name)]
public sealed class NodeInteropTests(InteropServerFixture fixture)
{
    private async Task Run(string scenario)
    {
        var node = ExternalTool.Require("node", "nodejs");
        var folder = Path.Combine(fixture.InteropRoot, "node");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "@grpc", "grpc-js")) || !Directory.Exists(Path.Combine(folder, "node_modules", "@grpc", "proto-loader")))
        {
            throw new InvalidOperationException($"@grpc/grpc-js and @grpc/proto-loader are not installed in {folder}: {ExternalTool.InstallHint}.");
        }

        var (code, output) = await ExternalTool.RunAsync(node, [Path.Combine(folder, "client.js"), fixture.ProtoRoot, fixture.Server.Target, scenario],
            folder, TimeSpan.FromSeconds(30));
        Assert.True(code == 0 && output.Contains("PASS " + scenario, StringComparison.Ordinal), $"node client, scenario {scenario}, exit {code}:\n{output}");
    }

    [Fact]
    public Task Submit_get_list_cancel() => Run("crud");

    [Fact]
    public Task Error_statuses_with_messages_unknown_method_and_oversize() => Run("errors");

    [Fact]
    public Task Deadline_that_expires() => Run("deadline");

    [Fact]
    public Task Watch_a_job_to_its_end() => Run("watch");

    [Fact]
    public Task Agent_bidirectional_stream() => Run("agent");

    [Fact]
    public async Task Watch_cancelled_midway_cancels_the_server_handler()
    {
        var before = fixture.Server.Jobs.CancelledWatches;
        await Run("watch-cancel");
        await GrpcTransportTests.WaitUntil(() => fixture.Server.Jobs.CancelledWatches > before);
    }
}
