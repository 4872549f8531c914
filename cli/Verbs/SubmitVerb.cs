using System.CommandLine;
using Duration = Google.Protobuf.WellKnownTypes.Duration;
using Mekong.Api.V1;
using Mekong.Cli.Input;
using Mekong.Cli.Output;

namespace Mekong.Cli.Verbs;

/// <summary><c>mekong submit</c>: submits a job and prints its id (with <c>--json</c>, the job).</summary>
internal static class SubmitVerb
{
    public static Command Create(VerbHost host)
    {
        var gpus = VerbOptions.Count("--gpus", "GPUs per node", 1);
        var nodes = VerbOptions.Count("--nodes", "nodes; more than 1 makes the job a gang (all nodes or none)", 1);
        var gpuType = new Option<string?>("--gpu-type") { Description = "GPU type (h100, a100, ...); default any", HelpName = "TYPE" };
        var walltime = VerbOptions.Duration("--walltime", "walltime limit (30m, 4h, 1d, 1:30:00); default the centre's");
        var priority = VerbOptions.Word<Priority>("--priority", "priority within the project");
        var project = new Option<string?>("--project") { Description = "project to run under (default: $MEKONG_PROJECT or the config file's project)", HelpName = "PATH" };
        var name = new Option<string?>("--name") { Description = "job name" };
        var preemptible = new Option<bool>("--preemptible") { Description = "accept being preempted even when guaranteed" };
        var grace = VerbOptions.Duration("--grace", "time between SIGTERM and SIGKILL, for checkpointing");
        var env = VerbOptions.Pairs("--env", "environment variable for the job");
        var workdir = new Option<string?>("--workdir") { Description = "working directory on the node", HelpName = "DIR" };
        var image = new Option<string?>("--image") { Description = "container image; default runs the command directly", HelpName = "IMAGE" };
        var json = VerbHost.JsonOption();
        var command = new Argument<string[]>("command") { Description = "the command and its arguments, after --", Arity = ArgumentArity.ZeroOrMore };

        var verb = new Command("submit", "submit a job: mekong submit --gpus 8 --walltime 4h --project uni-a/vision -- python train.py");
        foreach (var o in new Option[] { gpus, nodes, gpuType, walltime, priority, project, name, preemptible, grace, env, workdir, image, json })
            verb.Options.Add(o);
        verb.Arguments.Add(command);

        host.SetAction(verb, async context =>
        {
            var argv = context.Get(command) ?? [];
            if (argv.Length == 0) throw new UsageException("give the command to run after --, for example: mekong submit --gpus 1 -- python train.py");
            var settings = context.Settings();
            var spec = new JobSpec
            {
                Project = context.Get(project) ?? settings.DefaultProject ?? throw new UsageException("give --project (or set MEKONG_PROJECT, or project: in the config file)"),
                Name = context.Get(name) ?? "",
                Nodes = context.Get(nodes),
                GpusPerNode = context.Get(gpus),
                GpuType = context.Get(gpuType) ?? "",
                Priority = context.Get(priority) ?? Priority.Unspecified,
                Preemptible = context.Get(preemptible),
                ContainerImage = context.Get(image) ?? "",
                WorkingDir = context.Get(workdir) ?? "",
            };
            spec.Command.AddRange(argv);
            if (context.Get(walltime) is { } w) spec.Walltime = Duration.FromTimeSpan(w);
            if (context.Get(grace) is { } g) spec.GracePeriod = Duration.FromTimeSpan(g);
            foreach (var (key, value) in KeyValueText.ParseAll(context.Get(env) ?? [], "--env")) spec.Env[key] = value;

            var connection = context.Connect();
            var response = await connection.Jobs.SubmitJobAsync(new SubmitJobRequest { Spec = spec }, connection.Unary()).ConfigureAwait(false);
            if (context.Get(json)) ProtoJson.Write(context.Output, response.Job);
            else await context.Output.WriteLineAsync(response.Job.Id).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return verb;
    }
}
