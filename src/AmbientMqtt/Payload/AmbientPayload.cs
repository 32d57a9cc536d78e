using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt;

/// <summary>
/// The JSON payload of one reading, as the tutorial's Python publisher writes it:
/// <c>{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Encoding writes what Python's <c>json.dumps</c> writes for the tutorial's dictionary: UTC timestamp with microseconds
/// and <c>+00:00</c>, values at full (shortest round-trip) precision, <c>", "</c> and <c>": "</c> separators, then an
/// <c>identifier</c> field only when the reading has one and a <c>seq</c> field only when it has a
/// <see cref="AmbientReading.Sequence"/>. It refuses, with an <see cref="ArgumentException"/>, what a payload cannot
/// carry: a value that is not finite, an instant outside the years 1 to 9999 in UTC, an identifier that is empty,
/// longer than <see cref="MaxIdentifierLength"/> characters, not text (a lone UTF-16 surrogate) or holding a control
/// character, a negative sequence.
/// </para>
/// <para>
/// Decoding never throws from <see cref="TryDecode"/>, whatever the bytes: every payload is a reading or a reason that
/// names the field and the problem (quoting at most 64 bytes of the payload). It accepts any ISO 8601 instant with an
/// offset (<c>Z</c>, <c>+09:00</c>, 0 to 9 fractional digits) that falls in the years 1 to 9999 in UTC, and:
/// </para>
/// <list type="bullet">
/// <item>one UTF-8 byte order mark before the JSON is skipped (Python's <c>json.loads</c> skips it too);</item>
/// <item>extra fields are ignored, whatever they hold, nested up to 512 levels (the reading's object is the first):
/// the bound keeps a hostile payload cheap (100,000 <c>[</c> are refused after 512 bytes), and stays below the depth at
/// which CPython's <c>json</c> gives up (a <c>RecursionError</c> at about 990), so what we accept the tutorial's
/// subscriber can parse;</item>
/// <item>a field of the reading (<c>timestamp</c>, <c>temperature</c>, <c>humidity</c>, <c>pressure</c>,
/// <c>identifier</c>) that appears twice refuses the payload, naming the field. Python's <c>json.loads</c> keeps the
/// last value, so the tutorial's subscriber would store the second one: we set the payload aside with its reason
/// instead, because two values for one field mean the sender is broken and either could be the wrong one, and the
/// dead letter keeps the payload for a person to look at. An extra field may appear any number of times;</item>
/// <item><c>seq</c> is read when it is an integer from 0 to <see cref="long.MaxValue"/> written without a fraction or
/// exponent; any other value (<c>1.5</c>, <c>"7"</c>, <c>-1</c>, <c>1e30</c>, <c>null</c>), or a second <c>seq</c>, leaves
/// <see cref="AmbientReading.Sequence"/> <see langword="null"/> and keeps the reading: the field is an extra for gap
/// detection, not part of the reading;</item>
/// <item>an <c>identifier</c> holding a lone UTF-16 surrogate (<c>"\ud800"</c>, valid JSON but not text) or a control
/// character (<c>"node\n7"</c>, which would forge a line wherever the identifier is printed) refuses the payload; one
/// in an extra field is ignored with the field.</item>
/// </list>
/// </remarks>
public static class AmbientPayload
{
    /// <summary>The longest identifier the table holds (<c>VARCHAR(64)</c>), in characters.</summary>
    public const int MaxIdentifierLength = 64;

    // How deep arrays and objects may nest, counting the reading's object (see the remarks).
    private const int MaxDepth = 512;

    // The longest payload Encode writes: the punctuation and names of all six fields (89 bytes), the timestamp (32),
    // three numbers as long as "R" writes them ("-1.7976931348623157E+308", 24 each), 64 characters outside the BMP
    // each escaped as two \uXXXX (12 bytes each), and a 19-digit seq.
    private const int MaxEncodedLength = 89 + 32 + (3 * 24) + (MaxIdentifierLength * 12) + 19;

    private static readonly Instant FirstInstant = Instant.FromUtc(1, 1, 1, 0, 0);

    [Flags]
    private enum Field
    {
        None = 0,
        Timestamp = 1,
        Temperature = 2,
        Humidity = 4,
        Pressure = 8,
        Identifier = 16,
        Sequence = 32,
        Required = Timestamp | Temperature | Humidity | Pressure,
    }

    private static ReadOnlySpan<byte> Utf8ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>Encodes a reading as UTF-8 JSON.</summary>
    /// <param name="reading">The reading (see the remarks of <see cref="AmbientPayload"/> for what a payload carries).</param>
    /// <returns>The payload bytes.</returns>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the timestamp is outside the years 1 to 9999 in UTC,
    /// the identifier is empty, too long or not text, or the sequence is negative.</exception>
    public static byte[] Encode(in AmbientReading reading)
    {
        Span<byte> buffer = stackalloc byte[MaxEncodedLength];
        var length = Encode(reading, buffer);
        return buffer[..length].ToArray();
    }

    /// <summary>Encodes a reading as UTF-8 JSON into <paramref name="writer"/>.</summary>
    /// <param name="reading">The reading (see the remarks of <see cref="AmbientPayload"/> for what a payload carries).</param>
    /// <param name="writer">Where the bytes go.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the timestamp is outside the years 1 to 9999 in UTC,
    /// the identifier is empty, too long or not text, or the sequence is negative.</exception>
    public static int Encode(in AmbientReading reading, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var span = writer.GetSpan(MaxEncodedLength);
        var length = Encode(reading, span);
        writer.Advance(length);
        return length;
    }

    /// <summary>Encodes a reading as a JSON string.</summary>
    /// <param name="reading">The reading (see the remarks of <see cref="AmbientPayload"/> for what a payload carries).</param>
    /// <returns>The JSON text.</returns>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the timestamp is outside the years 1 to 9999 in UTC,
    /// the identifier is empty, too long or not text, or the sequence is negative.</exception>
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
        var problem = CheckReading(reading);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(reading));
        }

        var w = new SpanWriter(destination);
        w.Write("{\"timestamp\": \""u8);
        WriteTimestamp(ref w, reading.Timestamp);
        w.Write("\", \"temperature\": "u8);
        WriteNumber(ref w, reading.Temperature);
        w.Write(", \"humidity\": "u8);
        WriteNumber(ref w, reading.Humidity);
        w.Write(", \"pressure\": "u8);
        WriteNumber(ref w, reading.Pressure);
        if (reading.Identifier is { } identifier)
        {
            w.Write(", \"identifier\": \""u8);
            w.Write(JsonEncodedText.Encode(identifier).EncodedUtf8Bytes);
            w.Write("\""u8);
        }

        if (reading.Sequence is { } sequence)
        {
            w.Write(", \"seq\": "u8);
            sequence.TryFormat(w.Free, out var written, default, CultureInfo.InvariantCulture);
            w.Position += written;
        }

        w.Write("}"u8);
        return w.Position;
    }

    // What a payload cannot carry, checked before a byte is written.
    private static string? CheckReading(in AmbientReading reading)
    {
        // NodaTime's instants go back to the year -9998; DateTime, Python's datetime and so the wire start at year 1
        // (and end, as Instant does, with 9999).
        if (reading.Timestamp < FirstInstant)
        {
            return $"Timestamp {InstantPattern.ExtendedIso.Format(reading.Timestamp)} is outside the years 1 to 9999 in UTC, which a payload can carry.";
        }

        var problem = NonFinite(nameof(reading.Temperature), reading.Temperature)
            ?? NonFinite(nameof(reading.Humidity), reading.Humidity)
            ?? NonFinite(nameof(reading.Pressure), reading.Pressure);
        if (problem is not null)
        {
            return problem;
        }

        if (reading.Identifier is { } identifier && CheckIdentifier(identifier) is { } identifierProblem)
        {
            return identifierProblem;
        }

        return reading.Sequence < 0
            ? $"Sequence is {reading.Sequence.Value.ToString(CultureInfo.InvariantCulture)}; a sequence number is 0 or more."
            : null;

        static string? NonFinite(string name, double value) => double.IsFinite(value)
            ? null
            : $"{name} is {(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity")}; only finite values can be published.";
    }

    private static void WriteTimestamp(ref SpanWriter w, Instant timestamp)
    {
        // Python's isoformat() of a UTC datetime; the wire keeps microseconds (truncated, as datetime does).
        var utc = timestamp.ToDateTimeUtc();
        utc = new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);
        utc.TryFormat(w.Free, out var written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'+00:00'", CultureInfo.InvariantCulture);
        w.Position += written;
    }

    private static void WriteNumber(ref SpanWriter w, double value)
    {
        // MaxEncodedLength leaves room for the longest number "R" writes.
        var free = w.Free;
        value.TryFormat(free, out var written, "R", CultureInfo.InvariantCulture);

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

        // A lone surrogate is valid in a .NET string and in JSON (\ud800) but is not text: no UTF-8 column stores it.
        var lone = JsonText.IndexOfLoneSurrogate(identifier);
        if (lone >= 0)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"field 'identifier': holds a lone UTF-16 surrogate (\\u{(int)identifier[lone]:x4} at character {CountRunes(identifier[..lone]) + 1}), which is not text");
        }

        // A line break or an escape sequence in a node's name would forge or garble every line that shows it: the
        // console's rows, log lines, CSV exports.
        var control = IndexOfControl(identifier);
        if (control >= 0)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"field 'identifier': holds a control character (U+{(int)identifier[control]:X4} at character {CountRunes(identifier[..control]) + 1}), which would break the lines that show it");
        }

        if (identifier.Length > MaxIdentifierLength && CountRunes(identifier) > MaxIdentifierLength)
        {
            return $"field 'identifier': is {CountRunes(identifier)} characters long; the table holds at most {MaxIdentifierLength}";
        }

        return null;
    }

    // What char.IsControl finds: C0 (U+0000 to U+001F), DEL and C1 (U+007F to U+009F).
    private static int IndexOfControl(ReadOnlySpan<char> text)
    {
        var c0 = text.IndexOfAnyInRange('\u0000', '\u001F');
        var c1 = text.IndexOfAnyInRange('\u007F', '\u009F');
        return c0 < 0 ? c1 : c1 < 0 ? c0 : Math.Min(c0, c1);
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

    private static string? DecodeCore(ReadOnlySpan<byte> payload, out AmbientReading reading)
    {
        reading = default;
        if (payload.IsEmpty)
        {
            return "payload is empty";
        }

        // Windows tools write a byte order mark before UTF-8 text; Python's json.loads skips it as well.
        var offset = payload.StartsWith(Utf8ByteOrderMark) ? Utf8ByteOrderMark.Length : 0;
        var json = payload[offset..];
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            return DescribeInvalidUtf8(payload, offset);
        }

        if (json.IsEmpty)
        {
            return "payload holds only a byte order mark";
        }

        if (IsBlank(json))
        {
            return "payload is blank (only white space)";
        }

        return DecodeJson(json, offset, out reading);
    }

    private static string? DecodeJson(ReadOnlySpan<byte> json, int offset, out AmbientReading reading)
    {
        reading = default;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });

        // What a JsonException is reported against: the field being read, or the raw name of the extra field skipped.
        var field = Field.None;
        ReadOnlySpan<byte> extraField = default;
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return $"payload is {Describe(reader.TokenType)}, not a JSON object";
            }

            Instant timestamp = default;
            double temperature = 0, humidity = 0, pressure = 0;
            string? identifier = null;
            long? sequence = null;
            var seen = Field.None;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = Match(ref reader);
                if (name == Field.None)
                {
                    extraField = reader.ValueSpan;
                    reader.Skip();
                    extraField = default;
                    continue;
                }

                if ((seen & name) != 0)
                {
                    if (name != Field.Sequence)
                    {
                        return $"field '{NameOf(name)}': appears twice; a reading has one value for each field";
                    }

                    // Two numbers for one reading: neither can be trusted for gap detection, and the reading stands.
                    sequence = null;
                    reader.Skip();
                    continue;
                }

                seen |= name;
                field = name;
                reader.Read();
                var error = name switch
                {
                    Field.Timestamp => ReadTimestamp(ref reader, out timestamp),
                    Field.Temperature => ReadNumber(ref reader, "temperature", out temperature),
                    Field.Humidity => ReadNumber(ref reader, "humidity", out humidity),
                    Field.Pressure => ReadNumber(ref reader, "pressure", out pressure),
                    Field.Identifier => ReadIdentifier(ref reader, out identifier),
                    _ => ReadSequence(ref reader, out sequence),
                };
                if (error is not null)
                {
                    return error;
                }

                field = Field.None;
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                return "payload is not a complete JSON object";
            }

            // A second document after the object (two payloads glued together) is not one reading.
            if (!IsBlank(json[(int)reader.BytesConsumed..]))
            {
                return "payload has data after the JSON object";
            }

            if ((seen & Field.Required) != Field.Required)
            {
                var missing = ((seen & Field.Timestamp) == 0 ? "'timestamp', " : string.Empty)
                    + ((seen & Field.Temperature) == 0 ? "'temperature', " : string.Empty)
                    + ((seen & Field.Humidity) == 0 ? "'humidity', " : string.Empty)
                    + ((seen & Field.Pressure) == 0 ? "'pressure', " : string.Empty);
                return $"missing field {missing[..^2]}";
            }

            reading = new AmbientReading(timestamp, temperature, humidity, pressure, identifier, sequence);
            return null;
        }
        catch (JsonException ex)
        {
            var name = field != Field.None ? NameOf(field) : extraField.IsEmpty ? null : JsonText.Quote(extraField);
            // CurrentDepth of a StartArray or StartObject token is the depth outside it.
            var depth = reader.CurrentDepth + (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject ? 1 : 0);
            return DescribeJsonError(json, offset, name, depth, ex);
        }
    }

    private static Field Match(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            return name.Length switch
            {
                9 when name.SequenceEqual("timestamp"u8) => Field.Timestamp,
                11 when name.SequenceEqual("temperature"u8) => Field.Temperature,
                8 when name.SequenceEqual("humidity"u8) => Field.Humidity,
                8 when name.SequenceEqual("pressure"u8) => Field.Pressure,
                10 when name.SequenceEqual("identifier"u8) => Field.Identifier,
                3 when name.SequenceEqual("seq"u8) => Field.Sequence,
                _ => Field.None,
            };
        }

        // "temp\u0065rature" is the field temperature, for us as for Python's json. Not ValueTextEquals: it throws
        // InvalidOperationException for a lone surrogate escape ("timestamp\udc00"), which names an extra field. No
        // field's name escaped is longer than 6 bytes a character.
        var raw = reader.ValueSpan;
        return raw.Length > "temperature".Length * 6 ? Field.None : JsonText.Unescape(raw) switch
        {
            "timestamp" => Field.Timestamp,
            "temperature" => Field.Temperature,
            "humidity" => Field.Humidity,
            "pressure" => Field.Pressure,
            "identifier" => Field.Identifier,
            "seq" => Field.Sequence,
            _ => Field.None,
        };
    }

    private static string NameOf(Field field) => field switch
    {
        Field.Timestamp => "timestamp",
        Field.Temperature => "temperature",
        Field.Humidity => "humidity",
        Field.Pressure => "pressure",
        Field.Identifier => "identifier",
        _ => "seq",
    };

    private static string? ReadTimestamp(ref Utf8JsonReader reader, out Instant instant)
    {
        instant = default;
        if (reader.TokenType != JsonTokenType.String)
        {
            return $"field 'timestamp': expected an ISO 8601 string, got {Describe(reader.TokenType)}";
        }

        // A lone surrogate escape becomes U+FFFD here, which no ISO 8601 text holds: refused with the others.
        var error = reader.ValueIsEscaped
            ? IsoInstant.TryParse(Encoding.UTF8.GetBytes(JsonText.Unescape(reader.ValueSpan)), out instant)
            : IsoInstant.TryParse(reader.ValueSpan, out instant);
        return error is null ? null : $"field 'timestamp': {error}";
    }

    private static string? ReadNumber(ref Utf8JsonReader reader, string field, out double value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number)
        {
            return $"field '{field}': expected a number, got {Describe(reader.TokenType)}";
        }

        if (!reader.TryGetDouble(out value) || !double.IsFinite(value))
        {
            return $"field '{field}': {JsonText.Quote(reader.ValueSpan, withLength: true)} is out of range for a double";
        }

        return null;
    }

    private static string? ReadIdentifier(ref Utf8JsonReader reader, out string? identifier)
    {
        identifier = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return $"field 'identifier': expected a string, got {Describe(reader.TokenType)}";
        }

        identifier = reader.ValueIsEscaped ? JsonText.Unescape(reader.ValueSpan) : Encoding.UTF8.GetString(reader.ValueSpan);
        return CheckIdentifier(identifier);
    }

    // seq is an extra for gap detection, not part of the reading: a value that is not a number of the publisher's
    // count (1.5, "7", -1, 1e30, null) must not lose the reading, so it only leaves Sequence unset.
    private static string? ReadSequence(ref Utf8JsonReader reader, out long? sequence)
    {
        sequence = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0 ? value : null;
        reader.Skip();
        return null;
    }

    private static string DescribeInvalidUtf8(ReadOnlySpan<byte> payload, int offset)
    {
        if (payload.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || payload.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return "payload is not UTF-8 text (it starts with a UTF-16 byte order mark)";
        }

        var at = offset;
        while (at < payload.Length && Rune.DecodeFromUtf8(payload[at..], out _, out var consumed) == OperationStatus.Done)
        {
            at += consumed;
        }

        return at < payload.Length
            ? $"payload is not UTF-8 text (invalid byte 0x{payload[at]:X2} at byte {at})"
            : "payload is not UTF-8 text";
    }

    private static string DescribeJsonError(ReadOnlySpan<byte> json, int offset, string? field, int depth, JsonException ex)
    {
        // BytePositionInLine counts from the start of its line: find that line.
        var at = (int)Math.Min(ex.BytePositionInLine ?? 0, json.Length);
        for (long line = 0, i = 0; line < (ex.LineNumber ?? 0) && i < json.Length; i++)
        {
            if (json[(int)i] == '\n' && ++line == ex.LineNumber)
            {
                at = (int)Math.Min(i + 1 + (ex.BytePositionInLine ?? 0), json.Length);
            }
        }

        var rest = json[at..];
        if (depth >= MaxDepth && !rest.IsEmpty && (rest[0] == '[' || rest[0] == '{'))
        {
            return $"payload nests arrays and objects deeper than {MaxDepth} levels (at byte {offset + at})";
        }

        // Python's json.dumps writes NaN and Infinity, which are not JSON: name them rather than the parser's complaint.
        if (rest.StartsWith("NaN"u8) || rest.StartsWith("Infinity"u8) || rest.StartsWith("-Infinity"u8))
        {
            var negative = rest[0] == '-' || (at > 0 && json[at - 1] == '-');
            var token = rest.StartsWith("NaN"u8) ? "NaN" : negative ? "-Infinity" : "Infinity";
            return field is null
                ? $"payload holds {token}, which is not a finite number"
                : $"field '{field}': {token} is not a finite number";
        }

        var where = ex.LineNumber is > 0
            ? $"line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}"
            : $"byte {offset + (ex.BytePositionInLine ?? 0)}";
        var reason = ex.Message;
        var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0)
        {
            reason = reason[..cut];
        }

        if (reason.Length > 200)
        {
            reason = reason[..200] + "…";
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
