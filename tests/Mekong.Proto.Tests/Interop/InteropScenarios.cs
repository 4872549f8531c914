namespace Mekong.Proto.Tests.Interop;

/// <summary>The scenarios every foreign client runs against the transport on real Kestrel; each client
/// script prints <c>PASS scenario</c> when its own assertions hold.</summary>
public abstract class InteropScenarios(InteropServerFixture fixture)
{
    protected InteropServerFixture Fixture { get; } = fixture;

    /// <summary>Runs one scenario of the client and asserts it passed.</summary>
    protected abstract Task Run(string scenario);

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
        var before = Fixture.Server.Jobs.CancelledWatches;
        await Run("watch-cancel");
        await GrpcTransportTests.WaitUntil(() => Fixture.Server.Jobs.CancelledWatches > before);
    }

    protected static void AssertPassed(string client, string scenario, int code, string output) =>
        Assert.True(code == 0 && output.Contains("PASS " + scenario, StringComparison.Ordinal),
            $"{client} client, scenario {scenario}, exit {code}:\n{output}");
}
