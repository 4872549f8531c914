namespace Mekong.Policy;

/// <summary>What an account is, as the centre names it. Descriptive only: the policy ranks and admits by the
/// tree's shape (jobs go to leaves), never by this.</summary>
public enum AccountKind
{
    /// <summary>An organisation (university, agency, enterprise).</summary>
    Organisation = 0,
    /// <summary>A project: jobs are submitted to projects.</summary>
    Project = 1,
}
