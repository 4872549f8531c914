using System.Globalization;
using System.Text;
using Mekong.Simulation.Metrics;

namespace Mekong.Simulation.Output;

/// <summary><c>--jobs-out</c>: one row per job, <c>job_id,tenant,submit_s,start_s,end_s,gpus,preemptions</c>
/// (start and end of the final run), in trace order. Byte-identical for identical inputs.</summary>
public static class JobsCsv
{
    public const string Header = "job_id,tenant,submit_s,start_s,end_s,gpus,preemptions";

    public static void Write(TextWriter writer, SimulationResult result)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(result);
        var sb = new StringBuilder(64);
        writer.Write(Header);
        writer.Write('\n');
        foreach (var o in result.Outcomes)
        {
            sb.Clear();
            sb.Append(o.JobId).Append(',').Append(o.Tenant).Append(',')
              .Append(o.SubmitS.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(o.StartS.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(o.EndS.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(o.Gpus.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(o.Preemptions.ToString(CultureInfo.InvariantCulture)).Append('\n');
            writer.Write(sb);
        }
    }

    public static void WriteFile(string path, SimulationResult result)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(writer, result);
    }
}
