namespace Mekong.Proto.Tests.Interop;

/// <summary>Debian's grpcio (C core) calls the transport on real Kestrel.</summary>
[Collection(InteropGroup.Name)]
public sealed class PythonInteropTests(InteropServerFixture fixture)
{
    private async Task Run(string scenario)
    {
        var stubs = await fixture.PythonStubsAsync();
        var script = Path.Combine(fixture.InteropRoot, "python", "client.py");
        var (code, output) = await ExternalTool.RunAsync(ExternalTool.DebianPython, [script, stubs, fixture.Server.Target, scenario],
            fixture.InteropRoot, TimeSpan.FromSeconds(30));
        Assert.True(code == 0 && output.Contains("PASS " + scenario, StringComparison.Ordinal), $"python client, scenario {scenario}, exit {code}:\n{output}");
    }

    [Fact]
    public Task Submit_get_list_cancel_explain() => Run("crud");

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
