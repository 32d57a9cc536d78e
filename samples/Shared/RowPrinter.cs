using System.Globalization;
using System.Text;

namespace AmbientMqtt.Samples;

/// <summary>
/// The tutorial's per-row lines, written through one buffer flushed per batch. When rows come faster than a person reads
/// (a large batch, or more than <see cref="PerSecondLimit"/> rows in a second: a backlog being drained, a burst) each
/// batch gets one summary line instead, so printing never costs throughput.
/// </summary>
internal sealed class RowPrinter(Stream stdout)
{
    private const int PerRowLimit = 20;
    private const int PerSecondLimit = 50;
    private readonly StreamWriter _writer = new(stdout, new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
    private readonly Lock _gate = new();
    private long _windowStart;
    private int _rowsInWindow;

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
            var now = Environment.TickCount64;
            if (now - _windowStart >= 1000)
            {
                _windowStart = now;
                _rowsInWindow = 0;
            }

            _rowsInWindow += result.Rows.Count;
            if (result.Rows.Count <= PerRowLimit && _rowsInWindow <= PerSecondLimit)
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
