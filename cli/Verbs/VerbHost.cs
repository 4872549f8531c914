using System.CommandLine;
using Mekong.Cli.Client;

namespace Mekong.Cli.Verbs;

/// <summary>
/// What every client verb shares: the global <c>--server</c> / <c>--token</c> options (accepted before
/// or after the verb), a <c>--json</c> option per verb, the surroundings the CLI reads, and the action
/// wrapper that turns every failure into one line on stderr and an exit code.
/// </summary>
internal sealed class VerbHost
{
    public VerbHost(CliEnvironment environment)
    {
        Environment = environment;
    }

    public CliEnvironment Environment { get; }

    public Option<string?> Server { get; } = new("--server")
    {
        Description = "scheduler address (default: $MEKONG_SERVER, the config file, else http://127.0.0.1:7070)",
        Recursive = true,
        HelpName = "URL",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "bearer token (default: $MEKONG_TOKEN, else the config file)",
        Recursive = true,
        HelpName = "TOKEN",
    };

    /// <summary>A new <c>--json</c> option for one verb.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "print proto3 JSON (the API's JSON mapping) instead of a table" };

    /// <summary>Sets a verb's action: <paramref name="body"/> runs with a context; failures become one line.</summary>
    public void SetAction(Command command, Func<VerbContext, Task<int>> body)
    {
        command.SetAction(async (parse, cancellation) =>
        {
            using var context = new VerbContext(this, parse, cancellation);
            try
            {
                return await body(context).ConfigureAwait(false);
            }
            catch (Exception e) when (cancellation.IsCancellationRequested && e is OperationCanceledException or Transport.RpcException { StatusCode: Transport.StatusCode.Cancelled })
            {
                return ExitCodes.Cancelled;
            }
            catch (Exception e)
            {
                var (line, code) = ErrorReport.Describe(e, context.ServerForErrors);
                await context.Error.WriteLineAsync("mekong: " + line).ConfigureAwait(false);
                return code;
            }
        });
    }
}
