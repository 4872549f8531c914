using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mekong.Transport;

/// <summary>
/// One RPC method of a service: its names, kind and message types. Built from the service's
/// protobuf descriptor so that the names and kinds cannot drift from the .proto file.
/// </summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public Method(ServiceDescriptor service, string name)
    {
        ArgumentNullException.ThrowIfNull(service);
        var method = service.FindMethodByName(name)
            ?? throw new ArgumentException($"Service {service.FullName} has no method {name}.", nameof(name));
        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException(
                $"{service.FullName}/{name} takes {method.InputType.FullName} and returns {method.OutputType.FullName}, " +
                $"not {typeof(TRequest).Name} and {typeof(TResponse).Name}.");
        }

        Type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
            _ => throw new NotSupportedException($"{service.FullName}/{name}: client streaming is not supported by the transport."),
        };
        ServiceFullName = service.FullName;
        ServiceName = service.Name;
        Name = name;
    }

    /// <summary>Unary, server streaming or duplex streaming.</summary>
    public MethodType Type { get; }

    /// <summary>Package-qualified service name, for example "mekong.v1.JobService".</summary>
    public string ServiceFullName { get; }

    /// <summary>Service name without the package, for example "JobService" (used by the JSON routes).</summary>
    public string ServiceName { get; }

    /// <summary>Method name, for example "SubmitJob".</summary>
    public string Name { get; }

    /// <summary>The gRPC path, "/mekong.v1.JobService/SubmitJob".</summary>
    public string FullName => $"/{ServiceFullName}/{Name}";

    /// <summary>The JSON path, "/api/v1/JobService/SubmitJob".</summary>
    public string JsonPath => $"/api/v1/{ServiceName}/{Name}";

    public MessageParser<TRequest> RequestParser { get; } = new(() => new TRequest());

    public MessageParser<TResponse> ResponseParser { get; } = new(() => new TResponse());
}
