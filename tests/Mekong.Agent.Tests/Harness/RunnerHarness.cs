using Mekong.Agent.ControlGroups;
using Mekong.Agent.Discovery;
using Mekong.Agent.Execution;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests.Harness;

/// <summary>
/// A job runner on a fresh state directory with 4 simulated GPUs and real processes, in its own
/// control group parent (mekong-test/NODE). Disposing it kills whatever a test left running and
/// removes its files and groups.
/// </summary>
internal sealed class RunnerHarness : IDisposable
{
    public const string CgroupParent = "mekong-test";

    public RunnerHarness(Action<AgentOptions>? configure = null, string? stateDirectory = null, string? node = null)
    {
        Node = node ?? "n" + Guid.NewGuid().ToString("N")[..10];
        StateDirectory = stateDirectory ?? Path.Combine(Path.GetTempPath(), "mekong-agent-tests", Node);
        Options = new AgentOptions
        {
            NodeName = Node,
            StateDirectory = StateDirectory,
            SimulateGpus = 4,
            GpuType = "h100",
            CgroupParent = CgroupParent,
            DefaultGracePeriod = TimeSpan.FromSeconds(2),
        };
        configure?.Invoke(Options);
        Inventory = NodeDiscovery.Discover(Options);
        Cgroups = Options.SimulateExecution ? new NoCgroupDriver("simulated") : CgroupDriver.Detect(Options.Cgroups, Options.CgroupParent, Options.NodeName);
        Runner = NewRunner();
    }

    public string Node { get; }

    public string StateDirectory { get; }

    public AgentOptions Options { get; }

    public NodeInventory Inventory { get; }

    public CgroupDriver Cgroups { get; }

    public JobRunner Runner { get; private set; }

    public StateLog States { get; private set; } = new();

    /// <summary>The cgroup version this machine should give a root agent: 2 on a unified hierarchy, else 1.</summary>
    public static int ExpectedCgroupVersion =>
        !Native.Libc.IsRoot ? 0 : File.Exists("/sys/fs/cgroup/cgroup.controllers") ? 2 : Directory.Exists("/sys/fs/cgroup/memory") ? 1 : 0;

    /// <summary>Starts a job and asserts the runner accepted it.</summary>
    public void Start(StartJob job)
    {
        var result = Runner.Start(job);
        Assert.True(result.Accepted, result.Message);
    }

    /// <summary>The whole stdout of an attempt.</summary>
    public string Stdout(string jobId, uint attempt = 1) => File.ReadAllText(Runner.Layout.StdoutPath(jobId, attempt));

    /// <summary>Simulates an agent crash and restart: the old runner lets go, a new one re-adopts.</summary>
    public void Restart()
    {
        Runner.Dispose();
        States = new StateLog();
        Runner = NewRunner();
    }

    public void Dispose()
    {
        foreach (var job in Runner.Jobs().Where(j => !j.IsFinished))
        {
            job.RequestStop(StopKind.Stop, TimeSpan.Zero);
        }

        for (var i = 0; i < 100 && Runner.Jobs().Any(j => !j.IsFinished); i++)
        {
            Thread.Sleep(20);
        }

        Runner.Dispose();
        foreach (var controller in new[] { "memory", "cpu", "cpuacct", "pids", "" })
        {
            var dir = Path.Combine("/sys/fs/cgroup", controller, CgroupParent, CgroupDriver.Sanitise(Node));
            try
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir);
                }
            }
            catch (IOException)
            {
            }
        }

        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private JobRunner NewRunner()
    {
        var runner = new JobRunner(Options, Inventory, Cgroups);
        var states = States;
        runner.StateChanged += states.Add;
        runner.Recover();
        return runner;
    }
}
