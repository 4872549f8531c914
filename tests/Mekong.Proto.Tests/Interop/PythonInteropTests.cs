namespace Mekong.Proto.Tests.Interop;

/// <summary>Debian's grpcio (C core) calls the transport on real Kestrel.</summary>
[Collection(InteropGroup.Name)]
public sealed class PythonInteropTests(InteropServerFixture fixture) : InteropScenarios(fixture)
{
    protected override async Task Run(string scenario)
    {
        var stubs = await Fixture.PythonStubsAsync();
        var script = Path.Combine(Fixture.InteropRoot, "python", "client.py");
        var (code, output) = await ExternalTool.RunAsync(ExternalTool.DebianPython, [script, stubs, Fixture.Server.Target, scenario],
            Fixture.InteropRoot, TimeSpan.FromSeconds(30));
        AssertPassed("python", scenario, code, output);
    }
}
