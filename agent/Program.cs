using Google.Protobuf;
using Mekong.Agent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

AgentOptions options;
bool printInventory;
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(AgentCommandLine.Usage);
    return 0;
}

try
{
    options = AgentCommandLine.Parse(args, Environment.GetEnvironmentVariable, out printInventory);
}
catch (FormatException ex)
{
    Console.Error.WriteLine("Mekong.Agent: " + ex.Message);
    Console.Error.WriteLine(AgentCommandLine.Usage);
    return 2;
}

if (printInventory)
{
    using var agent = new NodeAgent(options);
    Console.WriteLine(JsonFormatter.Default.Format(agent.CurrentInventory()));
    return 0;
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Services.AddSingleton(options);
builder.Services.AddHostedService<AgentWorker>();
await builder.Build().RunAsync();
return 0;
