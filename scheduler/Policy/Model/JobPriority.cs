namespace Mekong.Policy;

/// <summary>Priority within a project. It orders a project's own jobs; it never ranks one project above another.</summary>
public enum JobPriority
{
    Low = 0,
    Normal = 1,
    High = 2,
}
