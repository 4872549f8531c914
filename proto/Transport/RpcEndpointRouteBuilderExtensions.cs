using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mekong.Transport;

/// <summary>
/// Maps services on ASP.NET Core endpoints: gRPC at POST /{package.Service}/{Method} (HTTP/2,
/// application/grpc) and JSON at POST /api/v1/{Service}/{Method}. The only place the server side of
/// the transport touches routing: replacing it with Grpc.AspNetCore means replacing this call.
/// </summary>
public static class RpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every method of the services, plus the answers for unknown methods (UNIMPLEMENTED).
    /// Call once per application. Options come from DI (<c>services.Configure&lt;RpcServerOptions&gt;</c>)
    /// unless given.
    /// </summary>
    public static IEndpointConventionBuilder MapRpcServices(
        this IEndpointRouteBuilder endpoints, RpcServerOptions? options, params RpcServiceDefinition[] services)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(services);
        options ??= endpoints.ServiceProvider.GetService<IOptions<RpcServerOptions>>()?.Value ?? new RpcServerOptions();
        var builders = new List<IEndpointConventionBuilder>();
        foreach (var service in services)
        {
            foreach (var method in service.Methods)
            {
                var grpc = endpoints.MapPost(method.FullName, http => method.HandleGrpcAsync(http, options))
                    .WithDisplayName($"gRPC {method.FullName}");
                builders.Add(grpc);
                if (options.EnableJson)
                {
                    builders.Add(endpoints.MapPost(method.JsonPath, http => method.HandleJsonAsync(http, options))
                        .WithDisplayName($"JSON {method.JsonPath}"));
                }
            }
        }

        // Literal routes take precedence over these patterns, so only unknown methods land here.
        builders.Add(endpoints.MapPost("/{service}/{method}", UnknownGrpcMethodAsync).WithDisplayName("gRPC unknown method"));
        if (options.EnableJson)
        {
            builders.Add(endpoints.MapPost("/api/v1/{service}/{method}", UnknownJsonMethodAsync).WithDisplayName("JSON unknown method"));
        }

        return new CompositeConventionBuilder(builders);
    }

    /// <summary>Maps the services with options from DI.</summary>
    public static IEndpointConventionBuilder MapRpcServices(this IEndpointRouteBuilder endpoints, params RpcServiceDefinition[] services) =>
        endpoints.MapRpcServices(null, services);

    private static Task UnknownGrpcMethodAsync(HttpContext http)
    {
        var service = http.Request.RouteValues["service"] as string ?? "";
        if (!service.Contains('.', StringComparison.Ordinal) || !GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        // Trailers-only response.
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcProtocol.ContentType;
        http.Response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.EncodeMessage($"Method {http.Request.Path} is not implemented.");
        return Task.CompletedTask;
    }

    private static Task UnknownJsonMethodAsync(HttpContext http) =>
        JsonServerCall<Google.Protobuf.WellKnownTypes.Empty, Google.Protobuf.WellKnownTypes.Empty>.WriteErrorAsync(
            http, StatusCode.Unimplemented, $"Method {http.Request.Path} is not implemented.", StatusCodes.Status404NotFound);

    private sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
