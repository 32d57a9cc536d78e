using System.Globalization;
using System.Text;

namespace AmbientMqtt.Samples;

/// <summary>
/// The tutorial's per-row lines, written through one buffer flushed per batch; a large batch (a backlog being drained)
/// gets one summary line instead of thousands nobody reads.
/// </summary>
internal sealed class RowPrinter(Stream stdout)
{
    private const int PerRowLimit = 20;
    private readonly StreamWriter _writer = new(stdout, new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
    private readonly Lock _gate = new();

    public void Line(string text)
    {
        lock (_gate)
        {
            _writer.WriteLine(text);
            _writer.Flush();
        }
    }

    public void Print(BatchWriteResult result)
    {
        lock (_gate)
        {
            if (result.Rows.Count <= PerRowLimit)
            {
                foreach (var row in result.Rows)
                {
                    if (row.Outcome == RowOutcome.Rejected)
                    {
                        continue;
                    }

                    _writer.Write("●NEW_DATA:  ");
                    _writer.WriteLine(Describe(row));
                    _writer.WriteLine($" クエリを実行しました。({(row.Outcome == RowOutcome.Inserted ? 1 : 0)} row affected.)");
                }
            }
            else
            {
                var rows = result.Rows.Where(r => r.Outcome != RowOutcome.Rejected).ToList();
                if (rows.Count > 0)
                {
                    _writer.WriteLine($"●NEW_DATA:  {rows.Count} rows, from {Describe(rows[0])} to {Describe(rows[^1])}");
                    _writer.WriteLine($" クエリを実行しました。({result.Inserted} row affected.)");
                }
            }

            _writer.Flush();
        }
    }

    private static string Describe(StoredRow row)
        => string.Create(CultureInfo.InvariantCulture, $"{{'timestamp': '{row.Timestamp:yyyy-MM-dd HH:mm:ss.ffffffzzz}', 'identifier': '{row.Identifier}', 'temperature': {Py(row.Temperature)}, 'humidity': {Py(row.Humidity)}, 'pressure': {Py(row.Pressure)}}}");

    // Python's repr of a float: 46.0, not 46.
    private static string Py(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
    }
}
