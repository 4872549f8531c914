namespace Mekong.Policy;

/// <summary>An organisation's class for the rate card (cost reports). The policy does not read it.</summary>
public enum OrganisationClass
{
    /// <summary>Universities and research institutes.</summary>
    Academic = 0,
    /// <summary>Government agencies.</summary>
    Government = 1,
    /// <summary>Companies.</summary>
    Enterprise = 2,
}
