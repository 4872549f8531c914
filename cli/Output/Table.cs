namespace Mekong.Cli.Output;

/// <summary>
/// A table for people: a header row in capitals and columns aligned with two spaces between them, the
/// way <c>kubectl get</c> and <c>squeue</c> print. Cells are single-line; an empty cell prints "-".
/// </summary>
internal sealed class Table
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public Table(params string[] headers)
    {
        _headers = headers;
    }

    public int Count => _rows.Count;

    public Table Add(params string?[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"expected {_headers.Length} cells, got {cells.Length}", nameof(cells));
        }

        _rows.Add([.. cells.Select(c => string.IsNullOrEmpty(c) ? "-" : c.ReplaceLineEndings(" "))]);
        return this;
    }

    public void Write(TextWriter writer)
    {
        var widths = new int[_headers.Length];
        for (var i = 0; i < widths.Length; i++)
        {
            widths[i] = Math.Max(_headers[i].Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length));
        }

        WriteRow(writer, _headers, widths);
        foreach (var row in _rows) WriteRow(writer, row, widths);
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            // No trailing spaces after the last column.
            writer.Write(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
        }

        writer.Write('\n');
    }
}
