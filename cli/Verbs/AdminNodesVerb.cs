using System.CommandLine;
using System.Globalization;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong admin nodes list|drain|resume</c>.</summary>
internal static class AdminNodesVerb
{
    public static Command Create(VerbHost host)
    {
        var nodes = new Command("nodes", "list nodes, drain them and return them to service");
        nodes.Subcommands.Add(List(host));
        nodes.Subcommands.Add(Drain(host));
        nodes.Subcommands.Add(Resume(host));
        return nodes;
    }

    private static Command List(VerbHost host)
    {
        var gpuType = new Option<string?>("--gpu-type") { Description = "only nodes of this GPU type", HelpName = "TYPE" };
        var states = VerbOptions.Words<NodeState>("--state", "only nodes in these states");
        var json = VerbHost.JsonOption();
        var verb = new Command("list", "list nodes with their state and allocation");
        foreach (var o in new Option[] { gpuType, states, json }) verb.Options.Add(o);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var request = new ListNodesRequest { GpuType = context.Get(gpuType) ?? "" };
            request.States.AddRange(context.Get(states) ?? []);
            var response = await connection.Admin.ListNodesAsync(request, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json))
            {
                ProtoJson.WriteArray(context.Output, response.Nodes);
            }
            else if (response.Nodes.Count == 0)
            {
                await context.Output.WriteLineAsync("no nodes").ConfigureAwait(false);
            }
            else
            {
                var table = new Table("NAME", "TYPE", "GPUS", "STATE", "BLOCK", "JOBS", "HEARTBEAT", "NOTE");
                var now = context.Now;
                foreach (var n in response.Nodes)
                {
                    table.Add(n.Name, n.GpuType, string.Create(CultureInfo.InvariantCulture, $"{n.GpusAllocated}/{n.GpuCount}"), EnumWords.Of(n.State), n.TopologyBlock,
                        n.JobIds.Count.ToString(CultureInfo.InvariantCulture), JobText.Relative(n.LastHeartbeat, now), n.DrainReason);
                }

                table.Write(context.Output);
            }

            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command Drain(VerbHost host)
    {
        var name = new Argument<string>("node") { Description = "node name" };
        var reason = new Option<string?>("--reason") { Description = "why (shown in nodes list)" };
        var json = VerbHost.JsonOption();
        var verb = new Command("drain", "stop a node taking new jobs; running jobs finish");
        verb.Arguments.Add(name);
        verb.Options.Add(reason);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var response = await connection.Admin.DrainNodeAsync(new DrainNodeRequest { Name = context.Get(name), Reason = context.Get(reason) ?? "" }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Node);
            else await context.Output.WriteLineAsync($"{response.Node.Name} {EnumWords.Of(response.Node.State)}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }

    private static Command Resume(VerbHost host)
    {
        var name = new Argument<string>("node") { Description = "node name" };
        var json = VerbHost.JsonOption();
        var verb = new Command("resume", "return a draining node to service");
        verb.Arguments.Add(name);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var response = await connection.Admin.ResumeNodeAsync(new ResumeNodeRequest { Name = context.Get(name) }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Node);
            else await context.Output.WriteLineAsync($"{response.Node.Name} {EnumWords.Of(response.Node.State)}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }
}
