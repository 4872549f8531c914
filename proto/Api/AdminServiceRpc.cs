using Google.Protobuf.Reflection;
using Mekong.Transport;

namespace Mekong.Api.V1;

/// <summary>The methods of mekong.v1.AdminService, for registering handlers and making calls.</summary>
public static class AdminServiceRpc
{
    /// <summary>The service's descriptor from admin.proto.</summary>
    public static readonly ServiceDescriptor Descriptor = AdminReflection.Descriptor.FindTypeByName<ServiceDescriptor>("AdminService");

    /// <summary>AdminService.GetAccountTree.</summary>
    public static readonly Method<GetAccountTreeRequest, GetAccountTreeResponse> GetAccountTree = new(Descriptor, nameof(GetAccountTree));

    /// <summary>AdminService.SetAccount.</summary>
    public static readonly Method<SetAccountRequest, SetAccountResponse> SetAccount = new(Descriptor, nameof(SetAccount));

    /// <summary>AdminService.RemoveAccount.</summary>
    public static readonly Method<RemoveAccountRequest, RemoveAccountResponse> RemoveAccount = new(Descriptor, nameof(RemoveAccount));

    /// <summary>AdminService.ListMembers.</summary>
    public static readonly Method<ListMembersRequest, ListMembersResponse> ListMembers = new(Descriptor, nameof(ListMembers));

    /// <summary>AdminService.SetMember.</summary>
    public static readonly Method<SetMemberRequest, SetMemberResponse> SetMember = new(Descriptor, nameof(SetMember));

    /// <summary>AdminService.RemoveMember.</summary>
    public static readonly Method<RemoveMemberRequest, RemoveMemberResponse> RemoveMember = new(Descriptor, nameof(RemoveMember));

    /// <summary>AdminService.ListNodes.</summary>
    public static readonly Method<ListNodesRequest, ListNodesResponse> ListNodes = new(Descriptor, nameof(ListNodes));

    /// <summary>AdminService.DrainNode.</summary>
    public static readonly Method<DrainNodeRequest, DrainNodeResponse> DrainNode = new(Descriptor, nameof(DrainNode));

    /// <summary>AdminService.ResumeNode.</summary>
    public static readonly Method<ResumeNodeRequest, ResumeNodeResponse> ResumeNode = new(Descriptor, nameof(ResumeNode));

    /// <summary>AdminService.IssueToken.</summary>
    public static readonly Method<IssueTokenRequest, IssueTokenResponse> IssueToken = new(Descriptor, nameof(IssueToken));

    /// <summary>AdminService.ListTokens.</summary>
    public static readonly Method<ListTokensRequest, ListTokensResponse> ListTokens = new(Descriptor, nameof(ListTokens));

    /// <summary>AdminService.RevokeToken.</summary>
    public static readonly Method<RevokeTokenRequest, RevokeTokenResponse> RevokeToken = new(Descriptor, nameof(RevokeToken));
}
