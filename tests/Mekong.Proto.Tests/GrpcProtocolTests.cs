using Mekong.Transport;

namespace Mekong.Proto.Tests;

/// <summary>The wire details both sides share.</summary>
public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("100m", 100 * TimeSpan.TicksPerMillisecond)]
    [InlineData("3S", 3 * TimeSpan.TicksPerSecond)]
    [InlineData("2M", 2 * TimeSpan.TicksPerMinute)]
    [InlineData("1H", TimeSpan.TicksPerHour)]
    [InlineData("1500u", 15_000)]
    [InlineData("99999999n", 999_999)]
    public void Timeouts_parse_in_every_unit(string header, long ticks) =>
        Assert.Equal(TimeSpan.FromTicks(ticks), GrpcProtocol.ParseTimeout(header));

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("100")]
    [InlineData("123456789m")]
    [InlineData("-5S")]
    [InlineData("5x")]
    public void Invalid_timeouts_are_no_deadline(string header) => Assert.Null(GrpcProtocol.ParseTimeout(header));

    [Fact]
    public void Timeouts_format_within_eight_digits()
    {
        Assert.Equal("250m", GrpcProtocol.FormatTimeout(TimeSpan.FromMilliseconds(250)));
        Assert.Equal("0m", GrpcProtocol.FormatTimeout(TimeSpan.FromMilliseconds(-5)));
        Assert.Equal("86400000m", GrpcProtocol.FormatTimeout(TimeSpan.FromDays(1)));
        Assert.Equal("8640000S", GrpcProtocol.FormatTimeout(TimeSpan.FromDays(100)));
        Assert.True(GrpcProtocol.FormatTimeout(TimeSpan.FromDays(3650)).Length <= 9);
    }

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("ü", "%C3%BC")]
    [InlineData("line\nbreak", "line%0Abreak")]
    public void Status_messages_are_percent_encoded_and_decoded(string message, string wire)
    {
        Assert.Equal(wire, GrpcProtocol.EncodeMessage(message));
        Assert.Equal(message, GrpcProtocol.DecodeMessage(wire));
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("application/grpc+json", false)]
    [InlineData("application/grpcx", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Content_types(string? contentType, bool grpc) => Assert.Equal(grpc, GrpcProtocol.IsGrpcContentType(contentType));
}
