using System.Globalization;
using System.Text;
using Mekong.Simulation.Metrics;

namespace Mekong.Simulation.Output;

/// <summary><c>--plot FILE.svg</c>: the cumulative distribution of job wait times, one line per run, on a
/// logarithmic time axis (waits below one second are drawn at one second). Hand-written SVG: no package,
/// and the same inputs give the same bytes.</summary>
public static class WaitCdfSvg
{
    private const int Width = 720, Height = 420, Left = 64, Right = 24, Top = 40, Bottom = 56;
    private const int Samples = 300;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
    private static readonly (long Seconds, string Label)[] Ticks =
        [(1, "1 s"), (10, "10 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h"), (36000, "10 h"), (86400, "1 d"), (864000, "10 d"), (8640000, "100 d")];

    public static string Render(IReadOnlyList<SimulationResult> results, string title)
    {
        ArgumentNullException.ThrowIfNull(results);
        var inv = CultureInfo.InvariantCulture;
        var maxWait = Math.Max(60, results.SelectMany(r => r.Outcomes).Select(o => o.WaitS).DefaultIfEmpty(0).Max());
        var xMax = Math.Ceiling(Math.Log10(maxWait));
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        double X(double seconds) => Left + (Math.Log10(Math.Max(1, seconds)) / xMax * plotW);
        double Y(double fraction) => Top + ((1 - fraction) * plotH);
        string F(double v) => v.ToString("0.#", inv);

        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        sb.Append(inv, $"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        // Grid and axes.
        for (var k = 0; k <= 10; k += 2)
        {
            var y = Y(k / 10.0);
            sb.Append(inv, $"<line x1=\"{Left}\" y1=\"{F(y)}\" x2=\"{Width - Right}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>\n");
            sb.Append(inv, $"<text x=\"{Left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{k * 10}%</text>\n");
        }
        foreach (var (seconds, label) in Ticks)
        {
            if (Math.Log10(seconds) > xMax + 1e-9) continue;
            var x = X(seconds);
            sb.Append(inv, $"<line x1=\"{F(x)}\" y1=\"{Top}\" x2=\"{F(x)}\" y2=\"{Top + plotH}\" stroke=\"#ddd\"/>\n");
            sb.Append(inv, $"<text x=\"{F(x)}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\">{label}</text>\n");
        }
        sb.Append(inv, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#333\"/>\n");
        sb.Append(inv, $"<text x=\"{Left + (plotW / 2)}\" y=\"{Height - 14}\" text-anchor=\"middle\">wait (start of final run − submit), log scale</text>\n");
        sb.Append(inv, $"<text transform=\"translate(16,{Top + (plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">jobs started within</text>\n");

        for (var r = 0; r < results.Count; r++)
        {
            var waits = results[r].Outcomes.Select(o => o.WaitS).Order().ToArray();
            if (waits.Length == 0) continue;
            var colour = Colours[r % Colours.Length];
            sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"");
            var i = 0;
            for (var s = 0; s <= Samples; s++)
            {
                var t = Math.Pow(10, xMax * s / Samples);
                while (i < waits.Length && waits[i] <= t) i++;
                if (s > 0) sb.Append(' ');
                sb.Append(F(X(t))).Append(',').Append(F(Y((double)i / waits.Length)));
            }
            sb.Append("\"/>\n");
            var ly = Top + 16 + (r * 18);
            sb.Append(inv, $"<line x1=\"{Left + 12}\" y1=\"{ly}\" x2=\"{Left + 36}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"3\"/>\n");
            sb.Append(inv, $"<text x=\"{Left + 42}\" y=\"{ly + 4}\">{Escape(results[r].Name)} (mean {ResultText.Duration(results[r].WaitMeanS)})</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
