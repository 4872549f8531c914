using Google.Protobuf;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Tests;

public sealed class OutputTests
{
    [Fact]
    public void TableAlignsColumnsWithoutTrailingSpaces()
    {
        var writer = new StringWriter();
        new Table("ID", "STATE", "REASON").Add("1", "pending", "quota-limit").Add("1234", "running", null).Write(writer);
        Assert.Equal("ID    STATE    REASON\n1     pending  quota-limit\n1234  running  -\n", writer.ToString());
    }

    [Theory]
    [InlineData(JobState.TimedOut, "timed-out")]
    [InlineData(JobState.Pending, "pending")]
    [InlineData(JobState.Unspecified, "")]
    public void JobStatesInDesignWords(JobState state, string word) => Assert.Equal(word, EnumWords.Of(state));

    [Fact]
    public void EnumWordsRoundTrip()
    {
        Assert.Equal("node-type-unavailable", EnumWords.Of(PendingReason.NodeTypeUnavailable));
        Assert.Equal(Role.ProjectAdmin, EnumWords.Parse<Role>("project-admin", "--role"));
        Assert.Equal(Role.OrgAdmin, EnumWords.Parse<Role>("ORG_ADMIN", "--role"));
        Assert.Throws<UsageException>(() => EnumWords.Parse<Role>("unspecified", "--role"));
    }

    [Fact]
    public void ShapeOfSingleNodeAndGangJobs()
    {
        Assert.Equal("8 h100", JobText.Shape(new JobSpec { Nodes = 1, GpusPerNode = 8, GpuType = "h100" }));
        Assert.Equal("4x8 h100", JobText.Shape(new JobSpec { Nodes = 4, GpusPerNode = 8, GpuType = "h100" }));
        Assert.Equal("2 any", JobText.Shape(new JobSpec { GpusPerNode = 2 }));
    }

    [Fact]
    public void ReasonIsNotPrefixedTwice()
    {
        Assert.Equal("quota-limit: project x at 4/4 h100", JobText.Reason(new Explanation { ReasonCode = "quota-limit", Message = "project x at 4/4 h100" }));
        Assert.Equal("resources: 8/8 in use", JobText.Reason(new Explanation { ReasonCode = "resources", Message = "resources: 8/8 in use" }));
    }

    [Fact]
    public void JsonIsTheProto3Mapping()
    {
        var job = new Job { Id = "7", State = JobState.Pending, Spec = new JobSpec { GpusPerNode = 2 } };
        var text = ProtoJson.Format(job);
        Assert.Equal(job, JsonParser.Default.Parse<Job>(text));
        Assert.Contains("\"JOB_STATE_PENDING\"", text, StringComparison.Ordinal);
        Assert.Contains("\"gpusPerNode\"", text, StringComparison.Ordinal);
    }
}
