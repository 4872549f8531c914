using Mekong.Proto.Tests.Demo;

namespace Mekong.Proto.Tests.Interop;

/// <summary>
/// The demo services on real Kestrel (127.0.0.1, a free port, cleartext HTTP/2), and the Python
/// stubs generated once per run by Debian's protoc and grpc_python_plugin from proto/mekong/v1.
/// </summary>
public sealed class InteropServerFixture : IAsyncLifetime
{
    private DemoServer? _server;
    private string? _stubs;

    internal DemoServer Server => _server ?? throw new InvalidOperationException("not started");

    public string ProtoRoot { get; } = Path.Combine(ExternalTool.RepositoryRoot, "proto");

    public string InteropRoot { get; } = Path.Combine(ExternalTool.RepositoryRoot, "tests", "Mekong.Proto.Tests", "interop");

    public async Task InitializeAsync() => _server = await DemoServer.StartAsync(kestrel: true);

    /// <summary>Generates the Python stubs (once); fails with the install hint when a tool is missing.</summary>
    public async Task<string> PythonStubsAsync()
    {
        if (_stubs is not null)
        {
            return _stubs;
        }

        if (!File.Exists(ExternalTool.DebianPython))
        {
            throw new InvalidOperationException($"{ExternalTool.DebianPython} is missing: {ExternalTool.InstallHint}.");
        }

        var (code, output) = await ExternalTool.RunAsync(ExternalTool.DebianPython, ["-c", "import grpc, google.protobuf; print(grpc.__version__)"],
            InteropRoot, TimeSpan.FromSeconds(20));
        if (code != 0)
        {
            throw new InvalidOperationException($"Debian's python3-grpcio/python3-protobuf are not importable by {ExternalTool.DebianPython}: {ExternalTool.InstallHint}.\n{output}");
        }

        var protoc = ExternalTool.Require("protoc", "protobuf-compiler");
        var plugin = ExternalTool.Require("grpc_python_plugin", "protobuf-compiler-grpc");
        var stubs = Directory.CreateTempSubdirectory("mekong-py-stubs-").FullName;
        var protos = Directory.GetFiles(Path.Combine(ProtoRoot, "mekong", "v1"), "*.proto").Select(p => Path.GetRelativePath(ProtoRoot, p));
        (code, output) = await ExternalTool.RunAsync(protoc,
            ["-I", ProtoRoot, "--python_out=" + stubs, "--grpc_python_out=" + stubs, "--plugin=protoc-gen-grpc_python=" + plugin, .. protos],
            ProtoRoot, TimeSpan.FromSeconds(30));
        if (code != 0)
        {
            throw new InvalidOperationException($"protoc failed to generate the Python stubs (the well-known types come with libprotobuf-dev): {ExternalTool.InstallHint}.\n{output}");
        }

        _stubs = stubs;
        return stubs;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_stubs is not null)
        {
            Directory.Delete(_stubs, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InteropGroup : ICollectionFixture<InteropServerFixture>
{
    public const string Name = "interop";
}
