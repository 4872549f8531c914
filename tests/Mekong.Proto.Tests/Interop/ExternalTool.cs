using System.Diagnostics;
using System.Text;

namespace Mekong.Proto.Tests.Interop;

/// <summary>Runs the real clients' processes; finds the repository and tools.</summary>
internal static class ExternalTool
{
    /// <summary>Debian's interpreter: the python3 on PATH may not see Debian's python3-grpcio.</summary>
    public const string DebianPython = "/usr/bin/python3";

    public const string InstallHint = "run scripts/install-test-deps.sh (it installs python3-grpcio, python3-protobuf, " +
        "protobuf-compiler, protobuf-compiler-grpc and libprotobuf-dev, and runs npm ci in tests/Mekong.Proto.Tests/interop/node)";

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mekong.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Mekong.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A program on PATH, or a clear failure naming what to install.</summary>
    public static string Require(string program, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"Interop tests need '{program}' (Debian/npm package {package}), which is not installed: {InstallHint}.");
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Debian's grpcio would otherwise pick up a proxy from the environment.
        start.Environment["no_proxy"] = "127.0.0.1,localhost";
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + program);
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            output.Append("[killed after ").Append(timeout).Append("]\n");
        }

        output.Append(await stdout).Append(await stderr);
        return (process.HasExited ? process.ExitCode : -1, output.ToString());
    }
}
