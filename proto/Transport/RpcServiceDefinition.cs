using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mekong.Transport;

/// <summary>
/// A service's methods and their handlers, ready to map on endpoints. This is the seam: the
/// handlers' shapes are Grpc.Core's, so a Grpc.AspNetCore service can later call the same handlers.
/// </summary>
public sealed class RpcServiceDefinition
{
    internal RpcServiceDefinition(string fullName, IReadOnlyList<ServerMethod> methods)
    {
        FullName = fullName;
        Methods = methods;
    }

    /// <summary>"mekong.v1.JobService".</summary>
    public string FullName { get; }

    public IReadOnlyList<ServerMethod> Methods { get; }

    /// <summary>Starts a definition for a service of a .proto file.</summary>
    public static Builder For(ServiceDescriptor service) => new(service);

    /// <summary>Registers handlers method by method. Methods left unregistered answer UNIMPLEMENTED.</summary>
    public sealed class Builder
    {
        private readonly ServiceDescriptor _service;
        private readonly List<ServerMethod> _methods = [];

        internal Builder(ServiceDescriptor service)
        {
            ArgumentNullException.ThrowIfNull(service);
            _service = service;
        }

        public Builder Unary<TRequest, TResponse>(Method<TRequest, TResponse> method, Func<TRequest, CallContext, Task<TResponse>> handler)
            where TRequest : class, IMessage<TRequest>, new()
            where TResponse : class, IMessage<TResponse>, new() =>
            Add(method, MethodType.Unary, new ServerMethod<TRequest, TResponse>(method, handler, null, null));

        public Builder ServerStreaming<TRequest, TResponse>(
            Method<TRequest, TResponse> method, Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler)
            where TRequest : class, IMessage<TRequest>, new()
            where TResponse : class, IMessage<TResponse>, new() =>
            Add(method, MethodType.ServerStreaming, new ServerMethod<TRequest, TResponse>(method, null, handler, null));

        public Builder Duplex<TRequest, TResponse>(
            Method<TRequest, TResponse> method, Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, CallContext, Task> handler)
            where TRequest : class, IMessage<TRequest>, new()
            where TResponse : class, IMessage<TResponse>, new() =>
            Add(method, MethodType.DuplexStreaming, new ServerMethod<TRequest, TResponse>(method, null, null, handler));

        public RpcServiceDefinition Build() => new(_service.FullName, _methods.ToArray());

        private Builder Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType type, ServerMethod serverMethod)
            where TRequest : class, IMessage<TRequest>, new()
            where TResponse : class, IMessage<TResponse>, new()
        {
            ArgumentNullException.ThrowIfNull(method);
            if (method.ServiceFullName != _service.FullName)
            {
                throw new ArgumentException($"{method.FullName} is not a method of {_service.FullName}.", nameof(method));
            }

            if (method.Type != type)
            {
                throw new ArgumentException($"{method.FullName} is {method.Type}, not {type}.", nameof(method));
            }

            if (_methods.Any(m => m.FullName == method.FullName))
            {
                throw new ArgumentException($"{method.FullName} is registered twice.", nameof(method));
            }

            _methods.Add(serverMethod);
            return this;
        }
    }
}
