namespace Mekong.Cli.Client;

/// <summary>
/// Where the CLI connects and with what token, resolved per key in this order: the flags
/// (<c>--server</c>, <c>--token</c>), the environment (<c>MEKONG_SERVER</c>, <c>MEKONG_TOKEN</c>), the
/// config file (<see cref="ConfigFile"/>), then the default server http://127.0.0.1:7070 and no token.
/// The project <c>submit</c> uses without <c>--project</c> comes from <c>MEKONG_PROJECT</c> or the config file.
/// </summary>
/// <remarks>
/// A config file's token is used only when the server resolved is the config file's own server (or the
/// file names none): pointing the CLI at another server with <c>--server</c> must not send it the token
/// saved for the first one.
/// </remarks>
internal sealed record ClientSettings(Uri Server, string? Token, string? ConfigPath, string? DefaultProject = null)
{
    public const string DefaultServer = "http://127.0.0.1:7070";

    public static ClientSettings Resolve(string? serverFlag, string? tokenFlag, CliEnvironment environment)
    {
        var serverText = Blank(serverFlag) ?? Blank(environment.GetVariable("MEKONG_SERVER"));
        var token = Blank(tokenFlag) ?? Blank(environment.GetVariable("MEKONG_TOKEN"));
        ConfigFile? config = null;
        var project = Blank(environment.GetVariable("MEKONG_PROJECT"));
        if (serverText is null || token is null || project is null)
        {
            config = ConfigFile.Locate(environment) is { } path ? ConfigFile.Read(path) : null;
        }

        var configServer = config?.Server is { } cs ? ParseServer(cs, $"config file {config.Path}: server") : null;
        var server = serverText is not null ? ParseServer(serverText, "--server") : configServer ?? ParseServer(DefaultServer, "default server");
        if (token is null && config?.Token is { } configToken && (configServer is null || SameServer(configServer, server)))
        {
            token = configToken;
        }

        return new ClientSettings(server, token, config?.Path, project ?? config?.Project);
    }

    /// <summary>
    /// A server address: <c>http://host:port</c>, <c>https://host:port</c>, or <c>host:port</c> (taken as
    /// http). Anything else is a <see cref="UsageException"/>.
    /// </summary>
    public static Uri ParseServer(string text, string what)
    {
        var s = text.Trim();
        if (!s.Contains("://", StringComparison.Ordinal)) s = "http://" + s;
        if (!Uri.TryCreate(s, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new UsageException($"{what} '{text}': expected http://HOST:PORT");
        }

        return uri;
    }

    private static bool SameServer(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
