using Mekong.Transport;

namespace Mekong.Api.V1;

/// <summary>A typed client of mekong.v1.AdminService over an <see cref="RpcChannel"/>.</summary>
public sealed class AdminServiceClient
{
    private readonly RpcChannel _channel;

    public AdminServiceClient(RpcChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
    }

    /// <summary>GetAccountTree.</summary>
    public Task<GetAccountTreeResponse> GetAccountTreeAsync(GetAccountTreeRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.GetAccountTree, request, options);

    /// <summary>SetAccount.</summary>
    public Task<SetAccountResponse> SetAccountAsync(SetAccountRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.SetAccount, request, options);

    /// <summary>RemoveAccount.</summary>
    public Task<RemoveAccountResponse> RemoveAccountAsync(RemoveAccountRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.RemoveAccount, request, options);

    /// <summary>ListMembers.</summary>
    public Task<ListMembersResponse> ListMembersAsync(ListMembersRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.ListMembers, request, options);

    /// <summary>SetMember.</summary>
    public Task<SetMemberResponse> SetMemberAsync(SetMemberRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.SetMember, request, options);

    /// <summary>RemoveMember.</summary>
    public Task<RemoveMemberResponse> RemoveMemberAsync(RemoveMemberRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.RemoveMember, request, options);

    /// <summary>ListNodes.</summary>
    public Task<ListNodesResponse> ListNodesAsync(ListNodesRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.ListNodes, request, options);

    /// <summary>DrainNode.</summary>
    public Task<DrainNodeResponse> DrainNodeAsync(DrainNodeRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.DrainNode, request, options);

    /// <summary>ResumeNode.</summary>
    public Task<ResumeNodeResponse> ResumeNodeAsync(ResumeNodeRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.ResumeNode, request, options);

    /// <summary>IssueToken.</summary>
    public Task<IssueTokenResponse> IssueTokenAsync(IssueTokenRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.IssueToken, request, options);

    /// <summary>ListTokens.</summary>
    public Task<ListTokensResponse> ListTokensAsync(ListTokensRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.ListTokens, request, options);

    /// <summary>RevokeToken.</summary>
    public Task<RevokeTokenResponse> RevokeTokenAsync(RevokeTokenRequest request, CallOptions? options = null) =>
        _channel.UnaryAsync(AdminServiceRpc.RevokeToken, request, options);
}
