using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Mekong.Api.V1;
using Mekong.Transport;

namespace Mekong.Cli.Tests;

/// <summary>
/// Durable before acknowledged: <c>mekong server</c> runs as a real process under a submission load and is
/// killed with SIGKILL mid-load. After a restart on the same SQLite file, every submission and cancellation
/// that had been acknowledged is there, in the state it was acknowledged in.
/// </summary>
public sealed class ServerCrashTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mekong-crash-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Every_acknowledged_submission_and_cancellation_survives_a_SIGKILL()
    {
        var port = FreePort();
        var tokenFile = Path.Combine(_directory, "admin-token");
        var address = new Uri($"http://127.0.0.1:{port}");
        using var server = StartServer(port, tokenFile);
        await WaitForAsync(() => File.Exists(tokenFile) && new FileInfo(tokenFile).Length > 0, server, "the bootstrap token");
        var token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        using var channel = new RpcChannel(address, new RpcChannelOptions { BearerToken = token });
        var admin = new AdminServiceClient(channel);
        await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "crash" } });
        await admin.SetAccountAsync(new SetAccountRequest { Account = new Account { Path = "crash/load" } });

        var jobs = new JobServiceClient(channel);
        var submitted = new ConcurrentDictionary<string, string>(); // id → name, acknowledged
        var cancelled = new ConcurrentDictionary<string, bool>();   // acknowledged cancellations
        var cancelling = new ConcurrentDictionary<string, bool>();  // sent; the answer may have been cut off
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var name = $"w{w}-{n}";
                try
                {
                    var job = (await jobs.SubmitJobAsync(Request(name))).Job;
                    submitted[job.Id] = name;
                    if (n % 10 == 0)
                    {
                        cancelling[job.Id] = true;
                        await jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id });
                        cancelled[job.Id] = true;
                    }
                }
                catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException)
                {
                    return; // the server is gone: whatever was not acknowledged may or may not be there
                }
            }
        })).ToArray();

        await WaitForAsync(() => submitted.Count >= 2000, server, "2000 acknowledged submissions", timeoutSeconds: 120);
        server.Kill(); // SIGKILL: no shutdown, no flush
        await server.WaitForExitAsync();
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        Assert.NotEmpty(cancelled);

        using var restarted = StartServer(port, tokenFile);
        using var again = new RpcChannel(address, new RpcChannelOptions { BearerToken = token });
        var after = new JobServiceClient(again);
        await WaitForAsync(() => Reachable(after), restarted, "the restarted server");
        var stored = new Dictionary<string, Job>();
        var pageToken = "";
        do
        {
            var page = await after.ListJobsAsync(new ListJobsRequest { Project = "crash", PageSize = 1000, PageToken = pageToken });
            foreach (var j in page.Jobs) stored[j.Id] = j;
            pageToken = page.NextPageToken;
        }
        while (pageToken.Length > 0);

        foreach (var (id, name) in submitted)
        {
            Assert.True(stored.TryGetValue(id, out var job), $"acknowledged job {id} ({name}) is missing after the crash");
            Assert.Equal(name, job.Spec.Name);
            if (cancelled.ContainsKey(id)) Assert.Equal(JobState.Cancelled, job.State);
            else if (cancelling.ContainsKey(id)) Assert.Contains(job.State, new[] { JobState.Pending, JobState.Cancelled });
            else Assert.Equal(JobState.Pending, job.State);
        }
        restarted.Kill();
        await restarted.WaitForExitAsync();
    }

    private static SubmitJobRequest Request(string name)
    {
        var spec = new JobSpec { Project = "crash/load", Name = name, GpusPerNode = 1, Walltime = Duration.FromTimeSpan(TimeSpan.FromHours(1)) };
        spec.Command.AddRange(["sleep", "60"]);
        return new SubmitJobRequest { Spec = spec };
    }

    private static bool Reachable(JobServiceClient client)
    {
        try
        {
            client.ListJobsAsync(new ListJobsRequest { PageSize = 1 }).GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            return false;
        }
    }

    private Process StartServer(int port, string tokenFile)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = _directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", DevProcessTests.MekongDll(), "server", "--store", Path.Combine(_directory, "mekong.db"),
                     "--listen", $"127.0.0.1:{port}", "--bootstrap-token-file", tokenFile })
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForAsync(Func<bool> condition, Process process, string what, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (process.HasExited) Assert.Fail($"mekong server exited ({process.ExitCode}) before {what}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"no {what} within {timeoutSeconds} s");
            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
