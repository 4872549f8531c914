using YamlDotNet.RepresentationModel;

namespace Mekong.Cli.Client;

/// <summary>
/// The CLI's config file, YAML with the keys <c>server</c> (the scheduler's address), <c>token</c> (the
/// bearer token) and, optionally, <c>project</c> (what <c>submit</c> uses without <c>--project</c>). Looked up as <c>.mekong/config.yaml</c> in the current directory or its nearest
/// parent that has one (what <c>mekong dev</c> writes), else <c>~/.config/mekong/config.yaml</c>
/// (<c>$XDG_CONFIG_HOME/mekong/config.yaml</c> when that is set).
/// </summary>
internal sealed record ConfigFile(string Path, string? Server, string? Token, string? Project = null)
{
    public const string LocalDirectory = ".mekong";
    public const string FileName = "config.yaml";

    /// <summary>The file that applies from <paramref name="environment"/>'s directory, or null.</summary>
    public static string? Locate(CliEnvironment environment)
    {
        for (var dir = new DirectoryInfo(environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, LocalDirectory, FileName);
            if (File.Exists(candidate)) return candidate;
        }

        var configHome = environment.GetVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : environment.HomeDirectory is { } home ? System.IO.Path.Combine(home, ".config") : null;
        if (configHome is null) return null;
        var user = System.IO.Path.Combine(configHome, "mekong", FileName);
        return File.Exists(user) ? user : null;
    }

    /// <summary>Reads a config file; a malformed one is a <see cref="UsageException"/> naming it.</summary>
    public static ConfigFile Read(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var yaml = new YamlStream();
            yaml.Load(reader);
            if (yaml.Documents.Count == 0) return new ConfigFile(path, null, null);
            if (yaml.Documents[0].RootNode is not YamlMappingNode map)
            {
                throw new UsageException($"config file {path}: expected a mapping with keys 'server' and 'token'");
            }

            string? server = null, token = null, project = null;
            foreach (var (keyNode, valueNode) in map.Children)
            {
                var key = (keyNode as YamlScalarNode)?.Value;
                var value = (valueNode as YamlScalarNode)?.Value;
                switch (key)
                {
                    case "server": server = Blank(value); break;
                    case "token": token = Blank(value); break;
                    case "project": project = Blank(value); break;
                    default: break; // Unknown keys are left for newer versions of the CLI.
                }
            }

            return new ConfigFile(path, server, token, project);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new UsageException($"config file {path}: {e.Message}");
        }
        catch (IOException e)
        {
            throw new UsageException($"config file {path}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UsageException($"config file {path}: {e.Message}");
        }
    }

    /// <summary>
    /// Writes a config file readable only by its owner (mode 0600: it holds a bearer token), creating
    /// its directory. The file is written whole under a temporary name and renamed, so a reader never
    /// sees half of it.
    /// </summary>
    public static void Write(string path, string server, string token, string? project = null)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write("# written by mekong dev\n");
            writer.Write($"server: {Quote(server)}\n");
            writer.Write($"token: {Quote(token)}\n");
            if (project is not null) writer.Write($"project: {Quote(project)}\n");
        }

        // UnixCreateMode applies only when the file is new; a leftover temporary keeps its mode.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // Single-quoted YAML scalars: nothing is special inside except the quote, which doubles.
    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
