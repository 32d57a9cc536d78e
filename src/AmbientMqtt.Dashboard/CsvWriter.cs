using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// Writes rows as CSV straight into the response's pipe (RFC 4180: comma-separated, CRLF-free <c>\n</c> lines, a field
/// quoted when it holds a comma, a quote or a line break): nothing but the current chunk is held in memory.
/// </summary>
internal static class CsvWriter
{
    /// <summary>The header line.</summary>
    public static ReadOnlySpan<byte> Header => "timestamp,identifier,temperature,humidity,pressure\n"u8;

    // Bytes written before the pipe is flushed to the client.
    private const int FlushBytes = 32 * 1024;

    // A line is at most the timestamp (33), 64 identifier characters of up to 4 bytes each, quoted and doubled, and three
    // numbers of up to 24 characters.
    private const int MaxLineBytes = 33 + 2 + (64 * 4 * 2) + 3 + (3 * 25) + 1;

    /// <summary>Writes every row, then completes; a cancelled request stops it.</summary>
    /// <returns>The number of rows written.</returns>
    public static async Task<long> WriteAsync(PipeWriter pipe, IAsyncEnumerable<StoredReading> rows, CancellationToken cancellationToken)
    {
        pipe.Write(Header);
        var pending = Header.Length;
        var count = 0L;
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            pending += WriteLine(pipe, row);
            count++;
            if (pending >= FlushBytes)
            {
                var result = await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (result.IsCanceled || result.IsCompleted)
                {
                    break;
                }

                pending = 0;
            }
        }

        await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
        return count;
    }

    /// <summary>Formats one line.</summary>
    internal static int WriteLine(IBufferWriter<byte> writer, in StoredReading row)
    {
        var span = writer.GetSpan(MaxLineBytes);
        var n = Timestamp(span, row.Timestamp);
        span[n++] = (byte)',';
        n += Identifier(span[n..], row.Identifier);
        span[n++] = (byte)',';
        n += Number(span[n..], row.Temperature);
        span[n++] = (byte)',';
        n += Number(span[n..], row.Humidity);
        span[n++] = (byte)',';
        n += Number(span[n..], row.Pressure);
        span[n++] = (byte)'\n';
        writer.Advance(n);
        return n;
    }

    /// <summary><c>2024-10-08T08:54:50.547143+09:00</c>: microseconds, as stored, and the zone's offset.</summary>
    internal static int Timestamp(Span<byte> span, DateTimeOffset timestamp)
    {
        var local = timestamp.DateTime;
        var n = 0;
        n += Digits(span[n..], local.Year, 4);
        span[n++] = (byte)'-';
        n += Digits(span[n..], local.Month, 2);
        span[n++] = (byte)'-';
        n += Digits(span[n..], local.Day, 2);
        span[n++] = (byte)'T';
        n += Digits(span[n..], local.Hour, 2);
        span[n++] = (byte)':';
        n += Digits(span[n..], local.Minute, 2);
        span[n++] = (byte)':';
        n += Digits(span[n..], local.Second, 2);
        span[n++] = (byte)'.';
        n += Digits(span[n..], (int)(local.Ticks % TimeSpan.TicksPerSecond / 10), 6);
        var offset = (int)timestamp.Offset.TotalMinutes;
        span[n++] = offset < 0 ? (byte)'-' : (byte)'+';
        offset = Math.Abs(offset);
        n += Digits(span[n..], offset / 60, 2);
        span[n++] = (byte)':';
        n += Digits(span[n..], offset % 60, 2);
        return n;
    }

    private static int Identifier(Span<byte> span, string identifier)
    {
        if (identifier.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return Encoding.UTF8.GetBytes(identifier, span);
        }

        var n = 0;
        span[n++] = (byte)'"';
        n += Encoding.UTF8.GetBytes(identifier.Replace("\"", "\"\"", StringComparison.Ordinal), span[n..]);
        span[n++] = (byte)'"';
        return n;
    }

    private static int Number(Span<byte> span, double? value)
    {
        if (value is not { } number)
        {
            return 0;
        }

        // Shortest round-trip form: 26.73 stays 26.73.
        return Utf8Formatter.TryFormat(number, span, out var written) ? written : throw new InvalidOperationException("CSV line buffer too small.");
    }

    private static int Digits(Span<byte> span, int value, int count)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            span[i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        return count;
    }
}
