using Mekong.Agent.Tests.Harness;
using Mekong.Api.V1;

namespace Mekong.Agent.Tests;

/// <summary>Running as the submitting user, and under bubblewrap.</summary>
public sealed class UserAndSandboxTests
{
    [Fact]
    public async Task Where_the_node_maps_users_a_job_runs_under_the_users_uid()
    {
        if (!Native.Libc.IsRoot || Native.UserAccounts.Find("nobody") is not { } nobody)
        {
            return; // Only root can switch users; the test needs the "nobody" account.
        }

        using var node = new RunnerHarness(o => o.RunAsUser = true);
        var job = Jobs.Bash("as-user", "id -u; id -g; echo $USER; touch mine");
        job.User = "nobody";
        node.Start(job);

        var final = await node.States.Final("as-user");

        Assert.Equal(0, final.ExitCode);
        Assert.Equal($"{nobody.Uid}\n{nobody.Gid}\nnobody\n", node.Stdout("as-user"));
        Assert.True(File.Exists(Path.Combine(node.Runner.Layout.WorkDirectory("as-user"), "mine")));
        var log = node.Runner.Layout.StdoutPath("as-user", 1);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", log]) { RedirectStandardOutput = true })!;
        Assert.Equal(nobody.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), (await stat.StandardOutput.ReadToEndAsync()).Trim());
    }

    [Fact]
    public async Task A_user_the_node_does_not_know_runs_as_the_agents_user()
    {
        using var node = new RunnerHarness(o => o.RunAsUser = true);
        var job = Jobs.Bash("stranger", "id -u");
        job.User = "no-such-user-xyz";
        node.Start(job);

        await node.States.Final("stranger");

        Assert.Equal($"{Native.Libc.geteuid()}\n", node.Stdout("stranger"));
    }

    [Fact]
    public async Task Without_user_mapping_the_user_field_only_names_the_user()
    {
        using var node = new RunnerHarness();
        var job = Jobs.Bash("named", "id -u; echo $USER");
        job.User = "nobody";
        node.Start(job);

        await node.States.Final("named");

        Assert.Equal($"{Native.Libc.geteuid()}\nnobody\n", node.Stdout("named"));
    }

    [Fact]
    public async Task Under_bwrap_the_root_is_read_only_and_the_working_directory_writable()
    {
        if (Discovery.NvidiaSmi.FindExecutable("bwrap") is null)
        {
            return; // bubblewrap is not installed here.
        }

        using var node = new RunnerHarness(o => o.Sandbox = SandboxMode.Bwrap);
        node.Start(Jobs.Bash("boxed", "touch /etc/mekong-should-fail 2>/dev/null && echo root-writable || echo root-read-only; echo ok > here; cat here; echo $CUDA_VISIBLE_DEVICES").Gpus(1));

        var final = await node.States.Final("boxed");

        Assert.Equal(AgentJobState.Exited, final.State);
        Assert.Equal("root-read-only\nok\n1\n", node.Stdout("boxed"));
        Assert.False(File.Exists("/etc/mekong-should-fail"));
    }

    [Fact]
    public async Task Under_bwrap_a_stop_still_ends_the_job()
    {
        if (Discovery.NvidiaSmi.FindExecutable("bwrap") is null)
        {
            return;
        }

        using var node = new RunnerHarness(o => o.Sandbox = SandboxMode.Bwrap);
        node.Start(Jobs.Bash("boxed-sleep", "echo ready; sleep 300"));
        await Poll.Until(() => node.Stdout("boxed-sleep").Contains("ready", StringComparison.Ordinal), "ready");

        node.Runner.Stop(Jobs.Stop("boxed-sleep", 1));
        var final = await node.States.Final("boxed-sleep");

        Assert.Equal(AgentJobState.Stopped, final.State);
    }
}
