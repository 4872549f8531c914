using System.Globalization;
using System.Text;
using System.Text.Json;
using Mekong.Cli;

namespace Mekong.Simulation.Tests;

/// <summary>The <c>mekong simulate</c> verb end to end, on a trace generated here (nothing outside the repo).</summary>
public sealed class SimulateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mekong-sim-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A seeded random workload: four tenants of different appetite, 1–16 GPU jobs, over two days.</summary>
    private string GenerateTrace(int jobs = 400)
    {
        var random = new Random(7);
        var sb = new StringBuilder("job_id,tenant,user,submit_s,duration_s,gpus,nodes,gpu_type,status\n");
        var t = 0L;
        int[] sizes = [1, 1, 1, 1, 2, 4, 8, 8, 16];
        for (var i = 0; i < jobs; i++)
        {
            t += random.Next(0, 600);
            var tenant = "t" + (random.Next(10) switch { < 5 => 1, < 8 => 2, < 9 => 3, _ => 4 }).ToString(CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"j{i},{tenant},u,{t},{random.Next(60, 20000)},{sizes[random.Next(sizes.Length)]},,,\n");
        }
        var path = Path.Combine(_dir, "trace.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = MekongCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void The_same_inputs_give_byte_identical_jobs_out()
    {
        var trace = GenerateTrace();
        var first = Path.Combine(_dir, "first.csv");
        var second = Path.Combine(_dir, "second.csv");

        Assert.Equal(0, Cli("simulate", "--trace", trace, "--gpus", "64", "--jobs-out", first).Exit);
        Assert.Equal(0, Cli("simulate", "--trace", trace, "--gpus", "64", "--jobs-out", second).Exit);

        var bytes = File.ReadAllBytes(first);
        Assert.Equal(bytes, File.ReadAllBytes(second));
        var lines = File.ReadAllLines(first);
        Assert.Equal("job_id,tenant,submit_s,start_s,end_s,gpus,preemptions", lines[0]);
        Assert.Equal(401, lines.Length);
    }

    [Fact]
    public void Compare_prints_both_policies_and_json_as_the_last_line()
    {
        var trace = GenerateTrace();
        var plot = Path.Combine(_dir, "wait.svg");

        var (exit, output, error) = Cli("simulate", "--trace", trace, "--gpus", "64", "--accounts", "auto", "--compare", "--json", "--plot", plot);

        Assert.True(exit == 0, error);
        var last = output.TrimEnd('\n').Split('\n')[^1];
        using var json = JsonDocument.Parse(last);
        foreach (var policy in new[] { "mekong", "fifo" })
        {
            var r = json.RootElement.GetProperty(policy);
            Assert.Equal(400, r.GetProperty("jobs").GetInt32());
            foreach (var key in new[] { "wall_s", "makespan_s", "utilization", "wait_s_mean", "wait_s_p50", "wait_s_p99", "jct_s_mean", "preemptions", "jain_fairness", "reclaim_s_p99" })
                Assert.True(r.TryGetProperty(key, out _), key);
            var tenant = r.GetProperty("per_tenant").GetProperty("t1");
            foreach (var key in new[] { "jobs", "gpu_hours", "wait_mean", "wait_p99", "share_received", "share_entitled" })
                Assert.True(tenant.TryGetProperty(key, out _), key);
        }
        Assert.Contains("mekong", output.Split('\n')[2], StringComparison.Ordinal);
        var svg = File.ReadAllText(plot);
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Equal(2, svg.Split("<polyline").Length - 1);
    }

    [Fact]
    public void A_bad_trace_row_fails_with_its_line_and_exit_code_2()
    {
        var path = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(path, "job_id,tenant,user,submit_s,duration_s,gpus,nodes,gpu_type,status\nj1,t,u,0,10,1,1,,\nj2,t,u,0,ten,1,1,,\n");

        var (exit, _, error) = Cli("simulate", "--trace", path, "--gpus", "8");

        Assert.Equal(2, exit);
        Assert.Contains("bad.csv:3: duration_s 'ten'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Cluster_size_is_required_once()
    {
        var trace = GenerateTrace(5);

        var (exit, _, error) = Cli("simulate", "--trace", trace);

        Assert.Equal(2, exit);
        Assert.Contains("exactly one of --gpus", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_variants_run_side_by_side()
    {
        var trace = GenerateTrace(100);

        var (exit, output, error) = Cli("simulate", "--trace", trace, "--gpus", "32", "--set", "halfLife=3d", "--compare-set", "reservations=4", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output.TrimEnd('\n').Split('\n')[^1]);
        Assert.True(json.RootElement.TryGetProperty("mekong", out _));
        Assert.True(json.RootElement.TryGetProperty("mekong+reservations=4", out _));
    }
}
