using Mekong.Policy;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Mekong.Simulation.Setup;

/// <summary>The simulated cluster: its nodes (with GPU type and topology block) and per-type fair-share weights.</summary>
public sealed class ClusterSpec
{
    /// <summary>Nodes per topology block when none is given (a leaf switch of 32 nodes).</summary>
    public const int DefaultNodesPerBlock = 32;

    /// <summary>The GPU type of a <c>--gpus N</c> cluster.</summary>
    public const string DefaultGpuType = "gpu";

    public ClusterSpec(IReadOnlyList<NodeSpec> nodes, IReadOnlyDictionary<string, double>? typeWeights = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0) throw new SimulationInputException("the cluster has no nodes");
        Nodes = nodes;
        TypeWeights = typeWeights ?? new Dictionary<string, double>();
        var capacity = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in nodes) capacity[n.GpuType] = capacity.GetValueOrDefault(n.GpuType) + n.Gpus;
        GpusByType = capacity;
        TotalGpus = capacity.Values.Sum();
        MaxGpusPerNode = nodes.Max(n => n.Gpus);
    }

    public IReadOnlyList<NodeSpec> Nodes { get; }

    public IReadOnlyDictionary<string, double> TypeWeights { get; }

    /// <summary>GPUs per type, in type-name order.</summary>
    public IReadOnlyDictionary<string, int> GpusByType { get; }

    public int TotalGpus { get; }

    public int MaxGpusPerNode { get; }

    /// <summary><c>--gpus N</c>: N/8 nodes of 8 GPUs of one type, in blocks of 32 nodes.</summary>
    public static ClusterSpec FromGpuCount(int gpus)
    {
        if (gpus < 8 || gpus % 8 != 0) throw new SimulationInputException($"--gpus {gpus}: must be a positive multiple of 8 (nodes of 8 GPUs)");
        return new ClusterSpec(Group("node", DefaultGpuType, gpus / 8, 8, 0, 0, DefaultNodesPerBlock));
    }

    private static List<NodeSpec> Group(string prefix, string type, int count, int gpus, int cpu, long memory, int perBlock)
    {
        var nodes = new List<NodeSpec>(count);
        var width = Math.Max(3, (count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        for (var i = 0; i < count; i++)
        {
            var name = prefix + "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0');
            var block = prefix + "-blk" + (i / perBlock).ToString(System.Globalization.CultureInfo.InvariantCulture);
            nodes.Add(new NodeSpec(name, type, gpus, cpu, memory, block));
        }
        return nodes;
    }

    public static ClusterSpec FromYamlFile(string path)
    {
        if (!File.Exists(path)) throw new SimulationInputException($"cluster file '{path}' does not exist");
        return FromYaml(File.ReadAllText(path), path);
    }

    /// <summary>
    /// <code>
    /// gpuTypes:            # optional: fair-share weight per GPU type
    ///   h100: { weight: 2 }
    /// nodeGroups:
    ///   - name: h100       # node name prefix, unique
    ///     gpuType: h100
    ///     nodes: 64
    ///     gpusPerNode: 8
    ///     nodesPerBlock: 32  # topology block size (default 32)
    ///     cpuCores: 0        # optional
    ///     memoryMb: 0        # optional
    /// </code>
    /// </summary>
    public static ClusterSpec FromYaml(string yaml, string source)
    {
        var doc = Yaml.Parse<ClusterDocument>(yaml, source);
        if (doc.NodeGroups is not { Count: > 0 }) throw new SimulationInputException($"{source}: 'nodeGroups' must list at least one node group");
        var nodes = new List<NodeSpec>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in doc.NodeGroups)
        {
            var where = $"{source}: node group '{g.Name}'";
            if (string.IsNullOrWhiteSpace(g.Name)) throw new SimulationInputException($"{source}: a node group has no 'name'");
            if (!names.Add(g.Name)) throw new SimulationInputException($"{where} appears twice");
            if (string.IsNullOrWhiteSpace(g.GpuType)) throw new SimulationInputException($"{where}: 'gpuType' is required");
            if (g.Nodes < 1) throw new SimulationInputException($"{where}: 'nodes' must be at least 1");
            if (g.GpusPerNode is < 1 or > NodeSpec.MaxGpusPerNode) throw new SimulationInputException($"{where}: 'gpusPerNode' must be 1..{NodeSpec.MaxGpusPerNode}");
            if (g.NodesPerBlock < 1) throw new SimulationInputException($"{where}: 'nodesPerBlock' must be at least 1");
            if (g.CpuCores < 0 || g.MemoryMb < 0) throw new SimulationInputException($"{where}: 'cpuCores' and 'memoryMb' must not be negative");
            nodes.AddRange(Group(g.Name, g.GpuType, g.Nodes, g.GpusPerNode, g.CpuCores, g.MemoryMb, g.NodesPerBlock));
        }
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (type, t) in doc.GpuTypes ?? [])
        {
            if (!(t.Weight > 0) || double.IsInfinity(t.Weight)) throw new SimulationInputException($"{source}: GPU type '{type}': 'weight' must be a positive number");
            weights[type] = t.Weight;
        }
        return new ClusterSpec(nodes, weights);
    }

    private sealed class ClusterDocument
    {
        public Dictionary<string, GpuTypeDocument>? GpuTypes { get; set; }
        public List<NodeGroupDocument>? NodeGroups { get; set; }
    }

    private sealed class GpuTypeDocument
    {
        public double Weight { get; set; } = 1;
    }

    private sealed class NodeGroupDocument
    {
        public string Name { get; set; } = "";
        public string GpuType { get; set; } = "";
        public int Nodes { get; set; }
        public int GpusPerNode { get; set; } = 8;
        public int NodesPerBlock { get; set; } = DefaultNodesPerBlock;
        public int CpuCores { get; set; }
        public long MemoryMb { get; set; }
    }
}

/// <summary>YAML parsing with errors that name the file and line.</summary>
internal static class Yaml
{
    public static T Parse<T>(string yaml, string source) where T : class, new()
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        try
        {
            return deserializer.Deserialize<T>(yaml) ?? new T();
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message ?? e.Message;
            throw new SimulationInputException($"{source}:{e.Start.Line}: {inner}", e);
        }
    }
}
