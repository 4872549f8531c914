using Mekong.Cli.Client;

namespace Mekong.Cli.Tests;

public sealed class ClientSettingsTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    private ClientSettings Resolve(string? server = null, string? token = null) => ClientSettings.Resolve(server, token, _cli.Environment);

    private static void WriteConfig(string directory, string text)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.yaml"), text);
    }

    [Fact]
    public void DefaultsToLocalServerWithoutToken()
    {
        var settings = Resolve();
        Assert.Equal(new Uri("http://127.0.0.1:7070"), settings.Server);
        Assert.Null(settings.Token);
        Assert.Null(settings.ConfigPath);
    }

    [Fact]
    public void FlagsBeatEnvironmentWhichBeatsConfig()
    {
        WriteConfig(Path.Combine(_cli.WorkDirectory, ".mekong"), "server: http://config:1\ntoken: config-token\n");
        _cli.Set("MEKONG_SERVER", "http://env:2").Set("MEKONG_TOKEN", "env-token");
        Assert.Equal(("http://flag:3/", "flag-token"), Pair(Resolve("http://flag:3", "flag-token")));
        Assert.Equal(("http://env:2/", "env-token"), Pair(Resolve()));
    }

    [Fact]
    public void ConfigIsFoundInTheNearestParent()
    {
        WriteConfig(Path.Combine(_cli.WorkDirectory, ".mekong"), "server: 'http://parent:7070'\ntoken: 'parent-token'\nproject: demo/default\n");
        _cli.WorkDirectory = Directory.CreateDirectory(Path.Combine(_cli.WorkDirectory, "a", "b")).FullName;
        var settings = Resolve();
        Assert.Equal(("http://parent:7070/", "parent-token"), Pair(settings));
        Assert.Equal("demo/default", settings.DefaultProject);
        Assert.EndsWith(Path.Combine(".mekong", "config.yaml"), settings.ConfigPath, StringComparison.Ordinal);
    }

    [Fact]
    public void UserConfigIsTheFallback()
    {
        WriteConfig(Path.Combine(_cli.Home, ".config", "mekong"), "server: home:7070\ntoken: home-token\n");
        Assert.Equal(("http://home:7070/", "home-token"), Pair(Resolve()));
        WriteConfig(Path.Combine(_cli.WorkDirectory, ".mekong"), "server: local:7070\ntoken: local-token\n");
        Assert.Equal(("http://local:7070/", "local-token"), Pair(Resolve()));
    }

    [Fact]
    public void XdgConfigHomeIsHonoured()
    {
        var xdg = Path.Combine(_cli.Root, "xdg");
        WriteConfig(Path.Combine(xdg, "mekong"), "token: xdg-token\n");
        _cli.Set("XDG_CONFIG_HOME", xdg);
        Assert.Equal("xdg-token", Resolve().Token);
    }

    [Fact]
    public void ConfigTokenIsNotSentToAnotherServer()
    {
        WriteConfig(Path.Combine(_cli.WorkDirectory, ".mekong"), "server: http://127.0.0.1:7070\ntoken: secret\n");
        Assert.Equal("secret", Resolve("127.0.0.1:7070").Token);
        Assert.Null(Resolve("http://elsewhere:7070").Token);
    }

    [Theory]
    [InlineData("127.0.0.1:7070", "http://127.0.0.1:7070/")]
    [InlineData("https://mekong.example.org", "https://mekong.example.org/")]
    [InlineData("http://[::1]:7070", "http://[::1]:7070/")]
    public void ServerAddresses(string text, string expected) => Assert.Equal(expected, ClientSettings.ParseServer(text, "--server").ToString());

    [Theory]
    [InlineData("ftp://x")]
    [InlineData("http://x:7070/api")]
    [InlineData("http://")]
    public void BadServerIsAUsageError(string text) =>
        Assert.Contains("--server", Assert.Throws<UsageException>(() => ClientSettings.ParseServer(text, "--server")).Message, StringComparison.Ordinal);

    [Fact]
    public void MalformedConfigIsOneLineNamingTheFile()
    {
        WriteConfig(Path.Combine(_cli.WorkDirectory, ".mekong"), "server: [unclosed\n");
        var result = _cli.Run("queue");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("mekong: config file ", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void WrittenConfigIsOwnerOnlyAndReadsBack()
    {
        var path = Path.Combine(_cli.WorkDirectory, ".mekong", "config.yaml");
        ConfigFile.Write(path, "http://127.0.0.1:7070/", "to'ken", "demo/default");
        var read = ConfigFile.Read(path);
        Assert.Equal(("http://127.0.0.1:7070/", "to'ken", "demo/default"), (read.Server, read.Token, read.Project));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    private static (string, string?) Pair(ClientSettings s) => (s.Server.ToString(), s.Token);
}
