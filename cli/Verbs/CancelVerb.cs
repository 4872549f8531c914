using System.CommandLine;
using Mekong.Api.V1;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong cancel JOB</c>: cancels a pending, held or running job.</summary>
internal static class CancelVerb
{
    public static Command Create(VerbHost host)
    {
        var id = new Argument<string>("job") { Description = "job id (j-000123)" };
        var reason = new Option<string?>("--reason") { Description = "note kept in the job's state message" };
        var json = VerbHost.JsonOption();
        var verb = new Command("cancel", "cancel a job");
        verb.Arguments.Add(id);
        verb.Options.Add(reason);
        verb.Options.Add(json);
        host.SetAction(verb, async context =>
        {
            var connection = context.Connect();
            var request = new CancelJobRequest { Id = context.Get(id), Reason = context.Get(reason) ?? "" };
            var response = await connection.Jobs.CancelJobAsync(request, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Job);
            else await context.Output.WriteLineAsync($"{response.Job.Id} {EnumWords.Of(response.Job.State)}").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }
}
