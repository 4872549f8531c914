using System.Net;
using Mekong.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mekong.Proto.Tests.Demo;

/// <summary>The demo services on a host: in-process (TestServer) or real Kestrel on a loopback port.</summary>
internal sealed class DemoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DemoServer(WebApplication app, DemoJobService jobs, Uri address)
    {
        _app = app;
        Jobs = jobs;
        Address = address;
    }

    public DemoJobService Jobs { get; }

    /// <summary>http://localhost for TestServer, http://127.0.0.1:port for Kestrel.</summary>
    public Uri Address { get; }

    /// <summary>"127.0.0.1:port" for grpc clients.</summary>
    public string Target => $"{Address.Host}:{Address.Port}";

    public TestServer TestServer => _app.GetTestServer();

    public static async Task<DemoServer> StartAsync(bool kestrel, Action<RpcServerOptions>? configure = null, int http1Port = -1)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        if (kestrel)
        {
            builder.WebHost.UseKestrel(o =>
            {
                // Cleartext HTTP/2 needs an HTTP/2-only endpoint (prior knowledge, no upgrade).
                o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
                if (http1Port >= 0)
                {
                    o.Listen(IPAddress.Loopback, http1Port, l => l.Protocols = HttpProtocols.Http1);
                }
            });
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        var options = new RpcServerOptions();
        configure?.Invoke(options);
        var app = builder.Build();
        var jobs = new DemoJobService();
        app.MapRpcServices(options, jobs.Definition(), DemoAgentService.Definition());
        await app.StartAsync();
        var address = kestrel
            ? new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First())
            : new Uri("http://localhost");
        return new DemoServer(app, jobs, address);
    }

    /// <summary>Every address Kestrel listens on.</summary>
    public IReadOnlyList<Uri> Addresses =>
        _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();

    public RpcChannel Channel(RpcChannelOptions? options = null) =>
        _app.Services.GetService<IServer>() is TestServer test
            ? new RpcChannel(Address, test.CreateHandler(), options, disposeHandler: true)
            : new RpcChannel(Address, options);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
