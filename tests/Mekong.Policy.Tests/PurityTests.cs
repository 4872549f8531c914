using System.Xml.Linq;

namespace Mekong.Policy.Tests;

/// <summary>The policy core stays a plain library: no transport, database, web or network dependency.</summary>
public class PurityTests
{
    private static readonly string[] Forbidden =
        ["AspNetCore", "Grpc", "Google.Protobuf", "Npgsql", "Sqlite", "EntityFramework", "Dapper", "System.Net.Http", "System.Net.Sockets"];

    [Fact]
    public void Policy_assembly_references_only_the_base_library()
    {
        var referenced = typeof(PolicyEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.NotEmpty(referenced);
        foreach (var name in referenced)
        {
            Assert.True(name.StartsWith("System", StringComparison.Ordinal) || name == "netstandard",
                $"Mekong.Policy references {name}");
            Assert.DoesNotContain(Forbidden, f => name.Contains(f, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void Policy_project_has_no_io_or_transport_package()
    {
        var csproj = Path.Combine(RepoRoot(), "scheduler", "Policy", "Mekong.Policy.csproj");
        var doc = XDocument.Load(csproj);
        var packages = doc.Descendants("PackageReference").Select(e => (string?)e.Attribute("Include") ?? "").ToList();
        var projects = doc.Descendants("ProjectReference").ToList();
        Assert.Empty(projects);
        foreach (var p in packages)
            Assert.DoesNotContain(Forbidden, f => p.Contains(f, StringComparison.OrdinalIgnoreCase));
        // The only package is the analyzer that bans ambient time and randomness.
        Assert.Equal(["Microsoft.CodeAnalysis.BannedApiAnalyzers"], packages);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mekong.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Mekong.slnx) not found");
    }
}
