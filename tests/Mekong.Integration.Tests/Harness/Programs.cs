using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mekong.Integration.Tests.Harness;

/// <summary>The real executables as child processes: <c>mekong</c> (cli) and <c>Mekong.Agent</c>, run with <c>dotnet exec</c>.</summary>
internal static class Programs
{
    /// <summary>The cli project's mekong.dll, in the configuration of this test assembly.</summary>
    public static string MekongDll() => Find("cli", "mekong");

    /// <summary>The agent project's Mekong.Agent.dll, in the configuration of this test assembly.</summary>
    public static string AgentDll() => Find("agent", "Mekong.Agent");

    private static string Find(string project, string assembly)
    {
        // BaseDirectory is …/bin/CONFIGURATION/net10.0/ (with the trailing separator).
        var configuration = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)))!;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, project, "bin", configuration, "net10.0", assembly + ".dll");
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException($"{assembly}.dll (build {project}/ first)");
    }

    /// <summary>Starts <c>dotnet exec DLL ARGS</c>; stdout and stderr are collected in <see cref="Child"/>.</summary>
    public static Child Start(string dll, string workingDirectory, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in new[] { "MEKONG_SERVER", "MEKONG_TOKEN", "MEKONG_PROJECT", "XDG_CONFIG_HOME" }) info.Environment.Remove(name);
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;
        return new Child(Process.Start(info)!);
    }

    /// <summary>Runs to completion (60 s at most) and returns exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string dll, string workingDirectory, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        using var child = Start(dll, workingDirectory, args, environment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await child.Process.WaitForExitAsync(timeout.Token);
        child.Process.WaitForExit(); // drains the output events
        return (child.Process.ExitCode, child.Output, child.Error);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Sends a signal (SIGTERM 15, SIGKILL 9, …).</summary>
    public static void Signal(Process process, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}

/// <summary>A child process with its output collected.</summary>
internal sealed class Child : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    public Child(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_error) _error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public string Error { get { lock (_error) return _error.ToString(); } }

    /// <summary>SIGKILL and wait.</summary>
    public void Kill()
    {
        if (Process.HasExited) return;
        Process.Kill(entireProcessTree: false);
        Process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }
}
