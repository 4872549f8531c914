using System.CommandLine;
using System.CommandLine.Invocation;
using Mekong.Cli.Client;
using Mekong.Cli.Verbs;

namespace Mekong.Cli;

/// <summary>The <c>mekong</c> command line: a dispatcher over verbs, one file per verb under <c>Verbs/</c>.</summary>
internal static class MekongCli
{
    public static RootCommand Build(CliEnvironment? environment = null)
    {
        var host = new VerbHost(environment ?? CliEnvironment.FromProcess());
        var root = new RootCommand("mekong — the command line of the Mekong GPU cluster scheduler");
        root.Options.Add(host.Server);
        root.Options.Add(host.Token);
        root.Subcommands.Add(SubmitVerb.Create(host));
        root.Subcommands.Add(QueueVerb.Create(host));
        root.Subcommands.Add(ShowVerb.Create(host));
        root.Subcommands.Add(WhyVerb.Create(host));
        root.Subcommands.Add(CancelVerb.Create(host));
        root.Subcommands.Add(WatchVerb.Create(host));
        root.Subcommands.Add(LogsVerb.Create(host));
        root.Subcommands.Add(AdminVerb.Create(host));
        root.Subcommands.Add(ServerVerb.Create(host));
        root.Subcommands.Add(DevVerb.Create(host));
        root.Subcommands.Add(SimulateVerb.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs, as the process does: Ctrl-C and SIGTERM cancel the running verb. Tests call it
    /// with their own writers.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // Long enough for `server` and `dev` to stop cleanly after Ctrl-C.
        var config = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
        var parse = Build().Parse(args);
        return UsageError(parse, error) ?? parse.Invoke(config);
    }

    /// <summary>Parses and runs in-process with given surroundings; <paramref name="cancellation"/> plays Ctrl-C.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CliEnvironment environment, CancellationToken cancellation = default)
    {
        var config = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        var parse = Build(environment).Parse(args);
        return UsageError(parse, error) ?? await parse.InvokeAsync(config, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// A command line that does not parse is one line on stderr and exit code 2 (System.CommandLine
    /// would print the whole help and exit 1, which a script cannot tell from a server error).
    /// </summary>
    private static int? UsageError(ParseResult parse, TextWriter error)
    {
        if (parse.Errors.Count == 0 || parse.Action is not ParseErrorAction) return null;
        // "Required command was not provided" comes first even when the real mistake is a misspelt verb.
        var first = parse.Errors.FirstOrDefault(e => e.SymbolResult is not System.CommandLine.Parsing.CommandResult || !e.Message.StartsWith("Required command", StringComparison.Ordinal))
            ?? parse.Errors[0];
        var message = first.Message.TrimEnd('.');
        if (message.Length > 0 && char.IsUpper(message[0]) && (message.Length < 2 || !char.IsUpper(message[1])))
        {
            message = char.ToLowerInvariant(message[0]) + message[1..];
        }

        var path = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            path.Insert(0, result.Command.Name);
        }

        path[0] = "mekong";
        error.WriteLine($"mekong: {message} (see '{string.Join(' ', path)} --help')");
        return ExitCodes.Usage;
    }
}
