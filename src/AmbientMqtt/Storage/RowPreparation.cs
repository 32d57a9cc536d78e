using System.Text.Json;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.Storage;

/// <summary>
/// What every repository does to a batch before and after its database: the identifier default, the conversion to the
/// zone's wall-clock time (truncated to microseconds, as Python's <c>datetime</c>), the rounding of
/// <see cref="PythonRound.Round2"/>, the readings that cannot be stored at all, and the dead-letter rows with their
/// bounded topic, reason and payload prefix. The repositories differ only in how they talk to their database.
/// </summary>
internal sealed class RowPreparation
{
    /// <summary>Characters the dead-letter table keeps of a topic.</summary>
    public const int TopicLength = 255;

    /// <summary>Characters the dead-letter table keeps of a reason.</summary>
    public const int ReasonLength = 1024;

    /// <summary>What the dead-letter table's topic column says of a reading the database refused: the repository gets
    /// readings, not messages, and the payload column holds the reading as the wire would carry it.</summary>
    public const string RefusedTopic = "(refused by the database)";

    // The instants a DATETIME column (and DateTime) holds, in UTC: the years 1 to 9999.
    private static readonly Instant MinTimestamp = Instant.FromUtc(1, 1, 1, 0, 0);
    private static readonly Instant MaxTimestamp = Instant.FromUtc(9999, 12, 31, 23, 59, 59).PlusTicks(9_999_999);

    private readonly DateTimeZone _zone;
    private readonly string _zoneId;
    private readonly string _identifier;
    private readonly int _maxRejectedPayloadBytes;

    /// <summary>Initializes the preparation for validated settings.</summary>
    /// <param name="timeZone">A known IANA zone id.</param>
    /// <param name="identifier">The identifier of readings that carry none.</param>
    /// <param name="maxRejectedPayloadBytes">How many bytes of a rejected payload are kept.</param>
    public RowPreparation(string timeZone, string identifier, int maxRejectedPayloadBytes)
    {
        _zone = DateTimeZoneProviders.Tzdb[timeZone];
        _zoneId = timeZone;
        _identifier = identifier;
        _maxRejectedPayloadBytes = maxRejectedPayloadBytes;
    }

    /// <summary>Gets how many bytes of a rejected payload the dead-letter table keeps.</summary>
    public int MaxRejectedPayloadBytes => _maxRejectedPayloadBytes;

    /// <summary>Checks a batch's arguments for either repository; <see langword="true"/> when there is nothing to write.</summary>
    public static bool IsEmptyBatch(IReadOnlyList<AmbientReading> readings, IReadOnlyList<RejectedPayload> rejected)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentNullException.ThrowIfNull(rejected);
        foreach (var payload in rejected)
        {
            ArgumentNullException.ThrowIfNull(payload, nameof(rejected));
        }

        return readings.Count == 0 && rejected.Count == 0;
    }

    /// <summary>Turns readings into rows as they will be stored; a reading that cannot be stored at all gets a
    /// <see cref="PendingRow.ClientReason"/>.</summary>
    public PendingRow[] Prepare(IReadOnlyList<AmbientReading> readings)
    {
        var rows = new PendingRow[readings.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var reading = readings[i];
            ref var row = ref rows[i];
            row.Identifier = reading.Identifier ?? _identifier;
            row.Temperature = PythonRound.Round2(reading.Temperature);
            row.Humidity = PythonRound.Round2(reading.Humidity);
            row.Pressure = PythonRound.Round2(reading.Pressure);

            // The table keeps microseconds (DATETIME(6)), as Python's datetime does: truncate, never round up.
            if (!TryTruncate(reading.Timestamp, out var instant) || !FitsInZone(instant))
            {
                row.Stored = reading.Timestamp < MinTimestamp ? DateTimeOffset.MinValue : DateTimeOffset.MaxValue;
                row.ClientReason = $"field 'timestamp': {InstantPattern.ExtendedIso.Format(reading.Timestamp)} falls outside the years 1 to 9999 that the table holds (in UTC or in {_zoneId})";
                continue;
            }

            var zoned = instant.InZone(_zone);
            row.Local = zoned.LocalDateTime.ToDateTimeUnspecified();
            row.Utc = DateTime.SpecifyKind(instant.ToDateTimeUtc(), DateTimeKind.Unspecified);
            row.Stored = zoned.ToDateTimeOffset();

            row.ClientReason = NonFinite("temperature", reading.Temperature)
                ?? NonFinite("humidity", reading.Humidity)
                ?? NonFinite("pressure", reading.Pressure);
        }

        return rows;
    }

    /// <summary>Forgets the outcomes of a failed attempt, so a retry starts from scratch.</summary>
    public static void ResetOutcomes(PendingRow[] rows)
    {
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i].Outcome = rows[i].ClientReason is null ? RowOutcome.Inserted : RowOutcome.Rejected;
            rows[i].Reason = rows[i].ClientReason;
        }
    }

    /// <summary>The indices of the rows that go to the database.</summary>
    public static List<int> Candidates(PendingRow[] rows)
    {
        var candidates = new List<int>(rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].ClientReason is null)
            {
                candidates.Add(i);
            }
        }

        return candidates;
    }

    /// <summary>The rejected payloads, then the readings refused (by this side or by the database), as dead-letter rows.</summary>
    public List<DeadLetter> CollectDeadLetters(IReadOnlyList<AmbientReading> readings, PendingRow[] rows, IReadOnlyList<RejectedPayload> rejected)
    {
        var deadLetters = new List<DeadLetter>(rejected.Count);
        foreach (var payload in rejected)
        {
            deadLetters.Add(new DeadLetter(LocalTime(payload.ReceivedAt), payload.Topic ?? string.Empty, payload.Payload, payload.Reason ?? string.Empty));
        }

        DateTime? now = null;
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Outcome == RowOutcome.Rejected)
            {
                now ??= LocalTime(SystemClock.Instance.GetCurrentInstant());
                deadLetters.Add(new DeadLetter(now.Value, RefusedTopic, EncodeForDeadLetter(readings[i]), rows[i].Reason ?? "refused"));
            }
        }

        return deadLetters;
    }

    /// <summary>What a committed batch wrote.</summary>
    public static BatchWriteResult Result(PendingRow[] rows, int deadLetters)
    {
        var inserted = 0;
        var duplicates = 0;
        var stored = new StoredRow[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            ref readonly var row = ref rows[i];
            inserted += row.Outcome == RowOutcome.Inserted ? 1 : 0;
            duplicates += row.Outcome == RowOutcome.Duplicate ? 1 : 0;
            stored[i] = new StoredRow(row.Stored, row.Identifier, row.Temperature, row.Humidity, row.Pressure, row.Outcome);
        }

        return new BatchWriteResult(inserted, duplicates, deadLetters, stored);
    }

    /// <summary>The part of a rejected payload the dead-letter table keeps.</summary>
    public ReadOnlyMemory<byte> PayloadPrefix(ReadOnlyMemory<byte> payload) => payload[..Math.Min(payload.Length, _maxRejectedPayloadBytes)];

    /// <summary>The stored form of a row's time for log lines.</summary>
    public static string Describe(DateTimeOffset stored) =>
        stored.ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffffzzz", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Cuts <paramref name="text"/> to <paramref name="length"/> characters without splitting a surrogate pair.</summary>
    public static string Truncate(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        // Never split a surrogate pair: half a character is not valid text.
        var cut = char.IsHighSurrogate(text[length - 1]) ? length - 1 : length;
        return text[..cut];
    }

    private DateTime LocalTime(Instant instant)
    {
        if (!TryTruncate(instant, out var truncated) || !FitsInZone(truncated))
        {
            truncated = SystemClock.Instance.GetCurrentInstant();
        }

        return truncated.InZone(_zone).LocalDateTime.ToDateTimeUnspecified();
    }

    /// <summary>The instant truncated to microseconds, when it lies in the years 1 to 9999 (UTC).</summary>
    private static bool TryTruncate(Instant instant, out Instant truncated)
    {
        if (instant < MinTimestamp || instant > MaxTimestamp)
        {
            truncated = default;
            return false;
        }

        var ticks = instant.ToUnixTimeTicks();
        truncated = Instant.FromUnixTimeTicks(ticks - (((ticks % 10) + 10) % 10));
        return true;
    }

    /// <summary>Whether the wall-clock time of <paramref name="instant"/> in the zone is within the years 1 to 9999,
    /// checked on ticks before any conversion (a local time in the year 10000 cannot even be made).</summary>
    private bool FitsInZone(Instant instant)
    {
        var local = instant.ToUnixTimeTicks() + _zone.GetUtcOffset(instant).Ticks;
        return local >= MinTimestamp.ToUnixTimeTicks() && local <= MaxTimestamp.ToUnixTimeTicks();
    }

    private static string? NonFinite(string field, double value) =>
        double.IsFinite(value) ? null : $"field '{field}': {NonFiniteName(value)} is not a finite number";

    // The names JSON readers (and Python's json module) use, rather than .NET's "∞".
    private static string NonFiniteName(double value) =>
        double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";

    /// <summary>The reading as the wire would carry it; when the codec refuses it (the very reason it was rejected, such
    /// as an over-long identifier or a non-finite value), the same fields written as they are.</summary>
    private static ReadOnlyMemory<byte> EncodeForDeadLetter(in AmbientReading reading)
    {
        try
        {
            return AmbientPayload.Encode(reading);
        }
        catch (ArgumentException)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("timestamp", InstantPattern.ExtendedIso.Format(reading.Timestamp));
                WriteNumber(writer, "temperature", reading.Temperature);
                WriteNumber(writer, "humidity", reading.Humidity);
                WriteNumber(writer, "pressure", reading.Pressure);
                if (reading.Identifier is not null)
                {
                    writer.WriteString("identifier", reading.Identifier);
                }

                writer.WriteEndObject();
            }

            return stream.ToArray();
        }

        static void WriteNumber(Utf8JsonWriter writer, string name, double value)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumber(name, value);
            }
            else
            {
                writer.WriteString(name, NonFiniteName(value));
            }
        }
    }
}
