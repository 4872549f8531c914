using System.CommandLine;
using Mekong.Cli.Verbs;

namespace Mekong.Cli;

/// <summary>The <c>mekong</c> command line: a dispatcher over verbs, one file per verb under <c>Verbs/</c>.</summary>
internal static class MekongCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("mekong — the command line of the Mekong GPU cluster scheduler");
        root.Subcommands.Add(SimulateVerb.Create());
        return root;
    }

    /// <summary>Parses and runs; tests call it with their own writers.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var config = new InvocationConfiguration { Output = output, Error = error };
        return Build().Parse(args).Invoke(config);
    }
}
