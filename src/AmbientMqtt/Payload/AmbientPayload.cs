using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// The JSON payload of one reading, as the tutorial's Python publisher writes it:
/// <c>{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}</c>.
/// </summary>
/// <remarks>
/// Encoding writes what Python's <c>json.dumps</c> writes for the tutorial's dictionary: UTC timestamp with microseconds
/// and <c>+00:00</c>, values at full (shortest round-trip) precision, <c>", "</c> and <c>": "</c> separators, and an
/// <c>identifier</c> field only when the reading has one. Decoding accepts any ISO 8601 instant with an offset
/// (<c>Z</c>, <c>+09:00</c>, 0 to 9 fractional digits), ignores extra fields, and reports the first problem by field.
/// </remarks>
public static class AmbientPayload
{
    /// <summary>The longest identifier the table holds (<c>VARCHAR(64)</c>), in characters.</summary>
    public const int MaxIdentifierLength = 64;

    // Big enough for the four fields, a 64-character identifier escaped as \uXXXX, and the punctuation.
    private const int MaxEncodedLength = 160 + (MaxIdentifierLength * 6 * 2);

    /// <summary>Encodes a reading as UTF-8 JSON.</summary>
    /// <param name="reading">The reading; its values must be finite.</param>
    /// <returns>The payload bytes.</returns>
    /// <exception cref="ArgumentException">A value is NaN or infinite, or the identifier is empty or too long.</exception>
    public static byte[] Encode(in AmbientReading reading)
    {
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var length = Encode(reading, buffer);
        return buffer[..length].ToArray();
    }

    /// <summary>Encodes a reading as UTF-8 JSON into <paramref name="writer"/>.</summary>
    /// <param name="reading">The reading; its values must be finite.</param>
    /// <param name="writer">Where the bytes go.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">A value is NaN or infinite, or the identifier is empty or too long.</exception>
    public static int Encode(in AmbientReading reading, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var span = writer.GetSpan(MaxEncodedLength);
        var length = Encode(reading, span);
        writer.Advance(length);
        return length;
    }

    /// <summary>Encodes a reading as a JSON string.</summary>
    /// <param name="reading">The reading; its values must be finite.</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="ArgumentException">A value is NaN or infinite, or the identifier is empty or too long.</exception>
    public static string EncodeToString(in AmbientReading reading)
    {
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var length = Encode(reading, buffer);
        return Encoding.UTF8.GetString(buffer[..length]);
    }

    /// <summary>Decodes a payload.</summary>
    /// <param name="utf8Json">The payload bytes.</param>
    /// <returns>The reading.</returns>
    /// <exception cref="AmbientPayloadException">The payload is not a reading; the message names the field and the problem.</exception>
    public static AmbientReading Decode(ReadOnlySpan<byte> utf8Json)
    {
        var error = DecodeCore(utf8Json, out var reading);
        return error is null ? reading : throw new AmbientPayloadException(error);
    }

    /// <summary>Decodes a payload without throwing.</summary>
    /// <param name="utf8Json">The payload bytes.</param>
    /// <param name="reading">The reading, when the payload is one.</param>
    /// <param name="error">Otherwise, the field and the problem.</param>
    /// <returns><see langword="true"/> when the payload is a reading.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> utf8Json, out AmbientReading reading, [NotNullWhen(false)] out string? error)
    {
        error = DecodeCore(utf8Json, out reading);
        return error is null;
    }

    private static int Encode(in AmbientReading reading, Span<byte> destination)
    {
        var w = new SpanWriter(destination);
        w.Write("{\"timestamp\": \""u8);
        WriteTimestamp(ref w, reading.Timestamp);
        w.Write("\", \"temperature\": "u8);
        WriteNumber(ref w, reading.Temperature, nameof(reading.Temperature));
        w.Write(", \"humidity\": "u8);
        WriteNumber(ref w, reading.Humidity, nameof(reading.Humidity));
        w.Write(", \"pressure\": "u8);
        WriteNumber(ref w, reading.Pressure, nameof(reading.Pressure));
        if (reading.Identifier is { } identifier)
        {
            var problem = CheckIdentifier(identifier);
            if (problem is not null)
            {
                throw new ArgumentException(problem, nameof(reading));
            }

            w.Write(", \"identifier\": \""u8);
            w.Write(JsonEncodedText.Encode(identifier).EncodedUtf8Bytes);
            w.Write("\""u8);
        }

        w.Write("}"u8);
        return w.Position;
    }

    private static void WriteTimestamp(ref SpanWriter w, Instant timestamp)
    {
        // Python's isoformat() of a UTC datetime; the wire keeps microseconds (truncated, as datetime does).
        var utc = timestamp.ToDateTimeUtc();
        utc = new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);
        if (!utc.TryFormat(w.Free, out var written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'+00:00'", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Timestamp buffer too small.");
        }

        w.Position += written;
    }

    private static void WriteNumber(ref SpanWriter w, double value, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"{name} is {value.ToString(CultureInfo.InvariantCulture)}; only finite values can be published.", nameof(value));
        }

        var free = w.Free;
        if (!value.TryFormat(free, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("Number buffer too small.");
        }

        // Python's repr(): 1e-05 rather than 1E-05, and 25.0 rather than 25.
        var hasPointOrExponent = false;
        for (var i = 0; i < written; i++)
        {
            switch (free[i])
            {
                case (byte)'E':
                    free[i] = (byte)'e';
                    hasPointOrExponent = true;
                    break;
                case (byte)'.':
                    hasPointOrExponent = true;
                    break;
            }
        }

        w.Position += written;
        if (!hasPointOrExponent)
        {
            w.Write(".0"u8);
        }
    }

    internal static string? CheckIdentifier(string identifier)
    {
        if (identifier.Length == 0)
        {
            return "field 'identifier': is empty";
        }

        if (identifier.Length > MaxIdentifierLength && CountRunes(identifier) > MaxIdentifierLength)
        {
            return $"field 'identifier': is {CountRunes(identifier)} characters long; the table holds at most {MaxIdentifierLength}";
        }

        return null;
    }

    private static int CountRunes(string s)
    {
        var count = 0;
        foreach (var unused in s.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    private static string? DecodeCore(ReadOnlySpan<byte> utf8Json, out AmbientReading reading)
    {
        reading = default;
        if (utf8Json.IsEmpty)
        {
            return "payload is empty";
        }

        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            return "payload is not UTF-8 text";
        }

        if (IsBlank(utf8Json))
        {
            return "payload is blank (only white space)";
        }

        var field = (string?)null;
        try
        {
            return DecodeJson(utf8Json, ref field, out reading);
        }
        catch (JsonException ex)
        {
            return DescribeJsonError(utf8Json, field, ex);
        }
    }

    private static string? DecodeJson(ReadOnlySpan<byte> utf8Json, ref string? field, out AmbientReading reading)
    {
        reading = default;
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 16 });
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"payload is {Describe(reader.TokenType)}, not a JSON object";
        }

        Instant? timestamp = null;
        double? temperature = null, humidity = null, pressure = null;
        string? identifier = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("timestamp"u8))
            {
                field = "timestamp";
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return $"field 'timestamp': expected an ISO 8601 string, got {Describe(reader.TokenType)}";
                }

                var error = reader.ValueIsEscaped
                    ? IsoInstant.TryParse(Encoding.UTF8.GetBytes(reader.GetString()!), out var instant)
                    : IsoInstant.TryParse(reader.ValueSpan, out instant);
                if (error is not null)
                {
                    return $"field 'timestamp': {error}";
                }

                timestamp = instant;
            }
            else if (reader.ValueTextEquals("temperature"u8))
            {
                field = "temperature";
                var error = ReadNumber(ref reader, field, out var value);
                if (error is not null)
                {
                    return error;
                }

                temperature = value;
            }
            else if (reader.ValueTextEquals("humidity"u8))
            {
                field = "humidity";
                var error = ReadNumber(ref reader, field, out var value);
                if (error is not null)
                {
                    return error;
                }

                humidity = value;
            }
            else if (reader.ValueTextEquals("pressure"u8))
            {
                field = "pressure";
                var error = ReadNumber(ref reader, field, out var value);
                if (error is not null)
                {
                    return error;
                }

                pressure = value;
            }
            else if (reader.ValueTextEquals("identifier"u8))
            {
                field = "identifier";
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    identifier = null;
                }
                else if (reader.TokenType != JsonTokenType.String)
                {
                    return $"field 'identifier': expected a string, got {Describe(reader.TokenType)}";
                }
                else
                {
                    identifier = reader.GetString()!;
                    var error = CheckIdentifier(identifier);
                    if (error is not null)
                    {
                        return error;
                    }
                }
            }
            else
            {
                field = reader.GetString();
                reader.Skip();
            }

            field = null;
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return "payload is not a complete JSON object";
        }

        // A second document after the object (two payloads glued together) is not one reading.
        if (!IsBlank(utf8Json[(int)reader.BytesConsumed..]))
        {
            return "payload has data after the JSON object";
        }

        var missing = (timestamp is null ? "'timestamp', " : string.Empty)
            + (temperature is null ? "'temperature', " : string.Empty)
            + (humidity is null ? "'humidity', " : string.Empty)
            + (pressure is null ? "'pressure', " : string.Empty);
        if (missing.Length > 0)
        {
            return $"missing field {missing[..^2]}";
        }

        reading = new AmbientReading(timestamp!.Value, temperature!.Value, humidity!.Value, pressure!.Value, identifier);
        return null;
    }

    private static string? ReadNumber(ref Utf8JsonReader reader, string field, out double value)
    {
        value = 0;
        reader.Read();
        if (reader.TokenType != JsonTokenType.Number)
        {
            return $"field '{field}': expected a number, got {Describe(reader.TokenType)}";
        }

        if (!reader.TryGetDouble(out value) || !double.IsFinite(value))
        {
            return $"field '{field}': {Encoding.UTF8.GetString(reader.ValueSpan)} is out of range for a double";
        }

        return null;
    }

    private static string DescribeJsonError(ReadOnlySpan<byte> utf8Json, string? field, JsonException ex)
    {
        // Python's json.dumps writes NaN and Infinity, which are not JSON: name them rather than the parser's complaint.
        var at = (int)Math.Min(ex.BytePositionInLine ?? 0, utf8Json.Length);
        var rest = utf8Json[at..];
        if (rest.StartsWith("NaN"u8) || rest.StartsWith("Infinity"u8) || rest.StartsWith("-Infinity"u8))
        {
            var negative = rest[0] == '-' || (at > 0 && utf8Json[at - 1] == '-');
            var token = rest.StartsWith("NaN"u8) ? "NaN" : negative ? "-Infinity" : "Infinity";
            return field is null
                ? $"payload holds {token}, which is not a finite number"
                : $"field '{field}': {token} is not a finite number";
        }

        var where = ex.LineNumber is > 0 ? $"line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}" : $"byte {ex.BytePositionInLine}";
        var reason = ex.Message;
        var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0)
        {
            reason = reason[..cut];
        }

        return $"payload is not valid JSON at {where}: {reason}";
    }

    private static bool IsBlank(ReadOnlySpan<byte> bytes) => bytes.TrimStart(" \t\r\n"u8).IsEmpty;

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Position { get; set; }

        public readonly Span<byte> Free => _buffer[Position..];

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_buffer[Position..]);
            Position += bytes.Length;
        }
    }
}
