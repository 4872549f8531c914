using System.Text;
using Mekong.Agent.Logs;
using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>Output files per job attempt, and chunks of at most 64 KiB with offsets.</summary>
public sealed class LogTests : IDisposable
{
    private readonly RunnerHarness _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task Each_attempt_keeps_its_own_stdout_and_stderr()
    {
        _node.Start(Jobs.Bash("train", "echo out $MEKONG_ATTEMPT; echo err $MEKONG_ATTEMPT >&2; exit 1", attempt: 1));
        await _node.States.Final("train");
        _node.Start(Jobs.Bash("train", "echo out $MEKONG_ATTEMPT; echo err $MEKONG_ATTEMPT >&2", attempt: 2));
        await _node.States.WaitFor("train", c => c.Attempt == 2 && c.State == AgentJobState.Exited);

        var layout = _node.Runner.Layout;
        Assert.Equal("out 1\n", File.ReadAllText(layout.StdoutPath("train", 1)));
        Assert.Equal("err 1\n", File.ReadAllText(layout.StderrPath("train", 1)));
        Assert.Equal("out 2\n", File.ReadAllText(layout.StdoutPath("train", 2)));
        Assert.Equal("err 2\n", File.ReadAllText(layout.StderrPath("train", 2)));
    }

    [Fact]
    public async Task Output_is_forwarded_in_chunks_of_at_most_64_KiB_with_offsets()
    {
        // 150,000 bytes on stdout, a line on stderr.
        _node.Start(Jobs.Bash("big", "head -c 150000 /dev/zero | tr '\\0' x; echo oops >&2"));
        await _node.States.Final("big");
        var job = _node.Runner.Find("big", 1)!;

        var forwarder = new LogForwarder(TimeProvider.System);
        var chunks = new List<LogChunk>();
        while (forwarder.Next(job) is { } chunk)
        {
            chunks.Add(chunk);
            forwarder.Sent(chunk);
        }

        var stdout = chunks.Where(c => c.Stream == LogStream.Stdout).ToList();
        Assert.Equal([0UL, 65536UL, 131072UL], stdout.Select(c => c.Offset));
        Assert.All(chunks, c => Assert.True(c.Data.Length <= LogForwarder.MaxChunkBytes));
        Assert.Equal(150_000, stdout.Sum(c => c.Data.Length));
        var stderr = Assert.Single(chunks, c => c.Stream == LogStream.Stderr);
        Assert.Equal("oops\n", stderr.Data.ToString(Encoding.UTF8));
        Assert.All(chunks, c => Assert.Equal(("big", 1u), (c.JobId, c.Attempt)));
    }

    [Fact]
    public async Task A_chunk_not_marked_sent_is_read_again()
    {
        _node.Start(Jobs.Bash("again", "echo hello"));
        await _node.States.Final("again");
        var job = _node.Runner.Find("again", 1)!;
        var forwarder = new LogForwarder(TimeProvider.System);

        var first = forwarder.Next(job)!;
        var second = forwarder.Next(job)!;

        Assert.Equal(first.Offset, second.Offset);
        forwarder.Sent(second);
        Assert.Null(forwarder.Next(job));
    }
}
