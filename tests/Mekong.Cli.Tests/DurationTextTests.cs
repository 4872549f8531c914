using Mekong.Cli.Input;

namespace Mekong.Cli.Tests;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("4h", 14_400)]
    [InlineData("1d", 86_400)]
    [InlineData("1w", 604_800)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d12h", 216_000)]
    [InlineData("1:30:00", 5400)]
    [InlineData("36:00:00", 129_600)]
    [InlineData("2-12:00:00", 216_000)]
    [InlineData(" 4H ", 14_400)]
    public void Parses(string text, int seconds)
    {
        Assert.True(DurationText.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("30", "no unit")]
    [InlineData("5x", "unknown unit")]
    [InlineData("1h1h", "repeats")]
    [InlineData("h", "not a duration")]
    [InlineData("4h30", "not a duration")]
    [InlineData("1:30", "clock form")]
    [InlineData("1:60:00", "clock form")]
    [InlineData("-1h", "not a duration")]
    [InlineData("99999999999d", "too long")]
    public void RefusesWithAReason(string text, string reason)
    {
        Assert.False(DurationText.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(45, "45s")]
    [InlineData(5400, "1h30m")]
    [InlineData(90_061, "1d1h1m1s")]
    public void Formats(int seconds, string text) => Assert.Equal(text, DurationText.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void CoarseFormatDropsSmallUnits()
    {
        Assert.Equal("2h10m", DurationText.FormatCoarse(TimeSpan.FromSeconds(2 * 3600 + 600 + 17)));
        Assert.Equal("2d3h", DurationText.FormatCoarse(TimeSpan.FromHours(51) + TimeSpan.FromMinutes(5)));
    }
}
