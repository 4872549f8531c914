using System.CommandLine;
using Mekong.Cli.Client;

namespace Mekong.Cli.Verbs;

/// <summary>One verb's run: its parse result, writers, clock, cancellation and (on first use) its connection.</summary>
internal sealed class VerbContext : IDisposable
{
    private readonly VerbHost _host;
    private MekongConnection? _connection;

    public VerbContext(VerbHost host, ParseResult parse, CancellationToken cancellation)
    {
        _host = host;
        Parse = parse;
        Cancellation = cancellation;
    }

    public ParseResult Parse { get; }

    public CancellationToken Cancellation { get; }

    public TextWriter Output => Parse.InvocationConfiguration.Output;

    public TextWriter Error => Parse.InvocationConfiguration.Error;

    public CliEnvironment Environment => _host.Environment;

    public DateTimeOffset Now => _host.Environment.Time.GetUtcNow();

    /// <summary>The server named in error lines, once it is known.</summary>
    public Uri? ServerForErrors => _connection?.Settings.Server;

    public T? Get<T>(Option<T> option) => Parse.GetValue(option);

    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    /// <summary>The settings from flags, environment and config file.</summary>
    public ClientSettings Settings() => ClientSettings.Resolve(Parse.GetValue(_host.Server), Parse.GetValue(_host.Token), _host.Environment);

    /// <summary>The connection, made on first use.</summary>
    public MekongConnection Connect() => _connection ??= new MekongConnection(Settings(), Cancellation);

    public void Dispose() => _connection?.Dispose();
}
