using Mekong.Cli.Client;

namespace Mekong.Cli.Tests;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// Runs <c>MekongCli</c> in-process with its own surroundings: no environment variables but those
/// given, a temporary current directory and home, so that tests never read the machine's config.
/// </summary>
internal sealed class CliRunner : IDisposable
{
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);

    public CliRunner()
    {
        Root = Directory.CreateTempSubdirectory("mekong-cli-").FullName;
        Home = Directory.CreateDirectory(Path.Combine(Root, "home")).FullName;
        WorkDirectory = Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
    }

    public string Root { get; }

    public string Home { get; }

    public string WorkDirectory { get; set; }

    public CliRunner Set(string name, string value)
    {
        _variables[name] = value;
        return this;
    }

    public CliEnvironment Environment => new()
    {
        GetVariable = name => _variables.GetValueOrDefault(name),
        CurrentDirectory = WorkDirectory,
        HomeDirectory = Home,
    };

    public CliResult Run(params string[] args) => RunAsync(args).GetAwaiter().GetResult();

    public async Task<CliResult> RunAsync(string[] args, CancellationToken cancellation = default)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await MekongCli.RunAsync(args, output, error, Environment, cancellation);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
