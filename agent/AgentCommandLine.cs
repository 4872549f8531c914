using System.Globalization;
using Mekong.Agent.ControlGroups;

namespace Mekong.Agent;

/// <summary>The agent's command line → <see cref="AgentOptions"/>.</summary>
public static class AgentCommandLine
{
    public const string Usage = """
        Usage: Mekong.Agent --server URL --token T --node NAME --state-dir DIR
                            [--simulate-gpus N --gpu-type T] [--block B] [--cpus N --memory-mb N]
                            [--simulate-execution] [--cgroups auto|v1|v2|none] [--cgroup-parent NAME]
                            [--sandbox none|bwrap] [--run-as-user] [--print-inventory]

          --server URL          scheduler address, cleartext HTTP/2 (http://127.0.0.1:7070)
          --token T             agent credential (default: env MEKONG_AGENT_TOKEN)
          --node NAME           node name (default: the host name)
          --state-dir DIR       logs, working directories, job state files (default /var/lib/mekong-agent)
          --simulate-gpus N     advertise N simulated GPUs instead of asking nvidia-smi
          --gpu-type T          GPU type word (default: from the model name; "sim" when simulated)
          --block B             topology block (switch or rack label)
          --cpus N              CPU cores offered to jobs (default: all)
          --memory-mb N         memory offered to jobs in MiB (default: all)
          --simulate-execution  start no processes: a job runs for env MEKONG_SIM_DURATION_S seconds or until stopped
          --cgroups MODE        control groups for limits (default auto: v2, else v1, else none)
          --cgroup-parent NAME  parent group of the agent's groups (default mekong)
          --sandbox MODE        bwrap: run jobs under bubblewrap (default none)
          --run-as-user         run jobs as StartJob.user where the node knows the user
          --print-inventory     print what the agent would advertise, and exit
        """;

    /// <summary>Parsed options, or an error message. <paramref name="printInventory"/> for --print-inventory.</summary>
    public static AgentOptions Parse(IReadOnlyList<string> args, Func<string, string?> environment, out bool printInventory)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new AgentOptions { Token = environment("MEKONG_AGENT_TOKEN") };
        printInventory = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                {
                    throw new FormatException($"{arg} needs a value");
                }

                return args[++i];
            }

            switch (arg)
            {
                case "--server":
                    var server = Value();
                    if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                    {
                        throw new FormatException($"--server {server}: expected http://HOST:PORT");
                    }

                    options.Server = uri;
                    break;
                case "--token": options.Token = Value(); break;
                case "--node": options.NodeName = NonEmpty(arg, Value()); break;
                case "--state-dir": options.StateDirectory = NonEmpty(arg, Value()); break;
                case "--simulate-gpus": options.SimulateGpus = (int)Number(arg, Value(), 0, 1024); break;
                case "--gpu-type": options.GpuType = NonEmpty(arg, Value()); break;
                case "--block": options.TopologyBlock = Value(); break;
                case "--cpus": options.CpuCores = (uint)Number(arg, Value(), 1, 1 << 20); break;
                case "--memory-mb": options.MemoryBytes = (ulong)Number(arg, Value(), 1, long.MaxValue >> 20) << 20; break;
                case "--simulate-execution": options.SimulateExecution = true; break;
                case "--cgroups": options.Cgroups = Enum<CgroupMode>(arg, Value()); break;
                case "--cgroup-parent": options.CgroupParent = NonEmpty(arg, Value()); break;
                case "--sandbox": options.Sandbox = Enum<SandboxMode>(arg, Value()); break;
                case "--run-as-user": options.RunAsUser = true; break;
                case "--print-inventory": printInventory = true; break;
                default: throw new FormatException($"unknown option {arg}");
            }
        }

        return options;
    }

    private static string NonEmpty(string name, string value) =>
        value.Length > 0 ? value : throw new FormatException($"{name} must not be empty");

    private static long Number(string name, string value, long min, long max) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new FormatException($"{name} {value}: expected a whole number from {min} to {max}");

    private static T Enum<T>(string name, string value)
        where T : struct, System.Enum =>
        System.Enum.TryParse<T>(value, ignoreCase: true, out var result) && System.Enum.IsDefined(result)
            ? result
            : throw new FormatException($"{name} {value}: expected one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
}
