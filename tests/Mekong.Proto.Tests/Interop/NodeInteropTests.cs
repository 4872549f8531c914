namespace Mekong.Proto.Tests.Interop;

/// <summary>@grpc/grpc-js (pure JavaScript HTTP/2) calls the transport on real Kestrel.</summary>
[Collection(InteropGroup.Name)]
public sealed class NodeInteropTests(InteropServerFixture fixture) : InteropScenarios(fixture)
{
    protected override async Task Run(string scenario)
    {
        var node = ExternalTool.Require("node", "nodejs");
        var folder = Path.Combine(Fixture.InteropRoot, "node");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "@grpc", "grpc-js")) || !Directory.Exists(Path.Combine(folder, "node_modules", "@grpc", "proto-loader")))
        {
            throw new InvalidOperationException($"@grpc/grpc-js and @grpc/proto-loader are not installed in {folder}: {ExternalTool.InstallHint}.");
        }

        var (code, output) = await ExternalTool.RunAsync(node, [Path.Combine(folder, "client.js"), Fixture.ProtoRoot, Fixture.Server.Target, scenario],
            folder, TimeSpan.FromSeconds(30));
        AssertPassed("node", scenario, code, output);
    }
}
