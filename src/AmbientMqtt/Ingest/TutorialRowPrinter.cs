using System.Globalization;
using System.Text;

namespace AmbientMqtt.Ingest;

/// <summary>
/// The tutorial's per-row lines (<c>●NEW_DATA:  {…}</c> and <c> クエリを実行しました。(1 row affected.)</c>, as
/// <c>mqtt_bme280_insert01.py</c> prints them), for a program that shows what it stores: give it the
/// <see cref="IngestPipeline.BatchCommitted"/> events. Written through one buffer flushed per batch. When rows come faster than a person reads
/// (a large batch, or more than <see cref="PerSecondLimit"/> rows in a second: a backlog being drained, a burst) the
/// batches of each <see cref="SummaryInterval"/> get one summary line together, so printing never costs throughput; the
/// last batch of a burst is reported at once.
/// </summary>
public sealed class TutorialRowPrinter : IDisposable
{
    private const int PerRowLimit = 20;
    private const int PerSecondLimit = 50;
    private static readonly TimeSpan SummaryInterval = TimeSpan.FromMilliseconds(200);

    // Once nothing more is waiting (the end of a burst), the summary goes out this soon, unless another batch comes first.
    private static readonly TimeSpan IdleSummaryDelay = TimeSpan.FromMilliseconds(20);
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();
    private readonly Timer _summaryTimer;
    private long _windowStart;
    private int _rowsInWindow;
    private long _lastSummary;
    private int _pendingRows;
    private long _pendingInserted;
    private StoredRow? _pendingFirst;
    private StoredRow? _pendingLast;
    private long _summaryDue = long.MaxValue;

    /// <summary>Initializes a printer.</summary>
    /// <param name="stdout">Where the lines go (<c>Console.OpenStandardOutput()</c>), as UTF-8.</param>
    public TutorialRowPrinter(Stream stdout)
    {
        _writer = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
        _summaryTimer = new Timer(static s => ((TutorialRowPrinter)s!).PrintPendingSummary(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Writes a line of the program's own between the rows (a summary pending is written first).</summary>
    /// <param name="text">The line.</param>
    public void Line(string text)
    {
        lock (_gate)
        {
            WritePendingSummary();
            _writer.WriteLine(text);
            _writer.Flush();
        }
    }

    /// <summary>Writes a committed batch: a line pair per row, or a summary of many rows.</summary>
    /// <param name="result">The batch.</param>
    /// <param name="moreWaiting">More messages are already waiting: a summary may wait for the next batches; otherwise
    /// (the burst is over, or the pipeline keeps up) it is written at once.</param>
    public void Print(BatchWriteResult result, bool moreWaiting)
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
                WritePendingSummary();
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

                _writer.Flush();
                return;
            }

            foreach (var row in result.Rows)
            {
                if (row.Outcome != RowOutcome.Rejected)
                {
                    _pendingFirst ??= row;
                    _pendingLast = row;
                    _pendingRows++;
                }
            }

            _pendingInserted += result.Inserted;
            if (now - _lastSummary >= (long)SummaryInterval.TotalMilliseconds)
            {
                WritePendingSummary();
                _writer.Flush();
            }
            else if (_pendingRows > 0)
            {
                // Whatever the next batch does, these rows are reported within the interval, or soon after a burst ends.
                var delay = moreWaiting ? SummaryInterval : IdleSummaryDelay;
                var due = now + (long)delay.TotalMilliseconds;
                if (due < _summaryDue)
                {
                    _summaryDue = due;
                    _summaryTimer.Change(delay, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>Writes what is pending and flushes.</summary>
    public void Dispose()
    {
        _summaryTimer.Dispose();
        lock (_gate)
        {
            WritePendingSummary();
            _writer.Flush();
        }
    }

    private void PrintPendingSummary()
    {
        lock (_gate)
        {
            WritePendingSummary();
            _writer.Flush();
        }
    }

    private void WritePendingSummary()
    {
        if (_pendingFirst is not { } first || _pendingLast is not { } last)
        {
            return;
        }

        _writer.WriteLine($"●NEW_DATA:  {_pendingRows} rows, from {Describe(first)} to {Describe(last)}");
        _writer.WriteLine($" クエリを実行しました。({_pendingInserted} row affected.)");
        _pendingFirst = _pendingLast = null;
        _pendingRows = 0;
        _pendingInserted = 0;
        _lastSummary = Environment.TickCount64;
        _summaryDue = long.MaxValue;
    }

    private static string Describe(StoredRow row)
        => string.Create(CultureInfo.InvariantCulture, $"{{'timestamp': '{row.Timestamp:yyyy-MM-dd HH:mm:ss.ffffffzzz}', 'identifier': {PyString(row.Identifier)}, 'temperature': {Py(row.Temperature)}, 'humidity': {Py(row.Humidity)}, 'pressure': {Py(row.Pressure)}}}");

    // Python's repr of a str: quoted, a quote, a backslash and control characters escaped, so that a node's identifier
    // (which a payload may set) can never start a line of its own or pass for another row.
    private static string PyString(string text)
    {
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var builder = new StringBuilder(text.Length + 2).Append(quote);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case var q when q == quote:
                    builder.Append('\\').Append(q);
                    break;
                case var control when char.IsControl(control) || control is '\u2028' or '\u2029':
                    builder.Append(control <= '\u00ff' ? "\\x" : "\\u").Append(((int)control).ToString(control <= '\u00ff' ? "x2" : "x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.Append(quote).ToString();
    }

    // Python's repr of a float: 46.0, not 46.
    private static string Py(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('e', StringComparison.Ordinal) ? text : text + ".0";
    }
}
