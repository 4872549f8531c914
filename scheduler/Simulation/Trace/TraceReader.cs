using System.Globalization;

namespace Mekong.Simulation.Trace;

/// <summary>Reads the normalized trace CSV of <c>shared/traces</c>. Every bad row is an error naming its line:
/// a replay that silently drops or guesses rows measures something other than the trace.</summary>
public static class TraceReader
{
    public const string Header = "job_id,tenant,user,submit_s,duration_s,gpus,nodes,gpu_type,status";
    private const int Columns = 9;

    public static IReadOnlyList<TraceJob> ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new SimulationInputException($"trace file '{path}' does not exist");
        using var reader = new StreamReader(path);
        return Read(reader, path);
    }

    /// <summary>Parses a trace; jobs come back ordered by submit time, ties in file order.</summary>
    public static IReadOnlyList<TraceJob> Read(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = reader.ReadLine();
        if (header is null) throw new SimulationInputException($"{source}: empty file, expected the header '{Header}'");
        if (!string.Equals(header.TrimEnd('\r').Trim(), Header, StringComparison.Ordinal))
            throw new SimulationInputException($"{source}:1: header is '{header.Trim()}', expected '{Header}'");

        var jobs = new List<TraceJob>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var fields = new string[Columns];
        var lineNo = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            line = line.TrimEnd('\r');
            if (line.Length == 0) continue;
            var job = ParseRow(line, fields, source, lineNo);
            if (!ids.Add(job.JobId)) throw Bad(source, lineNo, $"job_id '{job.JobId}' appears twice");
            jobs.Add(job);
        }
        if (jobs.Count == 0) throw new SimulationInputException($"{source}: the trace has no jobs");
        // Stable: equal submit times keep file order (List.Sort is not stable, so sort indices).
        var order = Enumerable.Range(0, jobs.Count).ToArray();
        Array.Sort(order, (a, b) => jobs[a].SubmitS != jobs[b].SubmitS ? jobs[a].SubmitS.CompareTo(jobs[b].SubmitS) : a.CompareTo(b));
        return [.. order.Select(i => jobs[i])];
    }

    private static TraceJob ParseRow(string line, string[] fields, string source, int lineNo)
    {
        if (line.Contains('"', StringComparison.Ordinal)) throw Bad(source, lineNo, "quoted fields are not part of the normalized format");
        var n = 0;
        var start = 0;
        for (var i = 0; i <= line.Length; i++)
        {
            if (i < line.Length && line[i] != ',') continue;
            if (n == Columns) throw Bad(source, lineNo, $"more than {Columns} columns");
            fields[n++] = line[start..i].Trim();
            start = i + 1;
        }
        if (n != Columns) throw Bad(source, lineNo, $"{n} columns, expected {Columns} ({Header})");

        var id = fields[0];
        if (id.Length == 0) throw Bad(source, lineNo, "job_id is empty");
        var tenant = fields[1];
        if (tenant.Length == 0) throw Bad(source, lineNo, "tenant is empty");
        var submit = Integer(fields[3], "submit_s", 0, source, lineNo);
        var duration = Seconds(fields[4], "duration_s", source, lineNo);
        var gpus = (int)Integer(fields[5], "gpus", 1, source, lineNo);
        var nodes = fields[6].Length == 0 ? 0 : (int)Integer(fields[6], "nodes", 1, source, lineNo);
        if (nodes > gpus) throw Bad(source, lineNo, $"nodes {nodes} is more than gpus {gpus}");
        var type = fields[7].Length == 0 ? null : fields[7];
        return new TraceJob(id, tenant, fields[2], submit, duration, gpus, nodes, type);
    }

    private static long Integer(string text, string column, long min, string source, int lineNo)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min || v > int.MaxValue)
            throw Bad(source, lineNo, $"{column} '{text}' is not an integer ≥ {min}");
        return v;
    }

    /// <summary>Run time in whole seconds; fractional values round up (a job that ran at all ran ≥ 1 s).</summary>
    private static long Seconds(string text, string column, string source, int lineNo)
    {
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) || !(v > 0) || v > int.MaxValue)
            throw Bad(source, lineNo, $"{column} '{text}' is not a positive number of seconds");
        return (long)Math.Ceiling(v);
    }

    private static SimulationInputException Bad(string source, int lineNo, string what) =>
        new($"{source}:{lineNo}: {what}");
}
