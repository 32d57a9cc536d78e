using System.Globalization;
using System.Text;
using System.Text.Unicode;
using AmbientMqtt.Storage;
using CsCheck;
using NodaTime;

namespace AmbientMqtt.Tests.Payload;

/// <summary>
/// The payload path a message from the broker takes, fuzzed: decode, then the storage preparation every repository
/// runs (rows, dead letters). No bytes may make it throw (issue 9: one payload that threw stopped MqttInsert for good).
/// </summary>
/// <remarks>
/// <para>
/// CsCheck, not FsCheck or SharpFuzz: CsCheck is C#-first (FsCheck.Xunit.v3 brings FSharp.Core and F#-shaped
/// generators), has no dependencies and targets net10.0, runs inside an ordinary xunit test with a fixed iteration
/// count, and on a failure shrinks the payload and prints a seed that replays it (<c>CsCheck_Seed=…</c>). SharpFuzz
/// drives AFL or libFuzzer out of process: coverage-guided and stronger for a long campaign, but not a bounded test
/// that runs on every <c>./test.sh</c>.
/// </para>
/// <para>
/// Each sample is a generated payload; a failure prints it in hex (and as text). A run has a fresh seed, so every run
/// of the suite tries payloads no run tried before.
/// </para>
/// </remarks>
public sealed class PayloadFuzzTests
{
    // Zones at both ends of the offsets (+14:00, -12:00), one with daylight saving, the tutorial's, and UTC.
    private static readonly RowPreparation[] Preparations =
        [.. new[] { "UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin" }.Select(z => new RowPreparation(z, "tochigi_iot_899", 4096))];

    private static readonly Instant FirstInstant = Instant.FromUtc(1, 1, 1, 0, 0);

    // The tutorial's three sample lines, and payloads of our own publisher: the seeds the mutations start from.
    private static readonly byte[][] Corpus =
    [
        .. AmbientPayloadTests.SeedLines.Select(row => Encoding.UTF8.GetBytes(row.Data.Item1)),
        """{"timestamp": "2024-10-08T08:54:50.547143+09:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007, "identifier": "tochigi_iot_899", "seq": 1204}"""u8.ToArray(),
        "{\n  \"pressure\": 1e3,\n  \"note\": {\"a\": [1, 2, {\"b\": null}]},\n  \"humidity\": -0.0,\n  \"temperature\": 25,\n  \"timestamp\": \"0001-01-01T14:00:00+14:00\",\n  \"identifier\": \"\\ud83c\\udf21 n\\u0022\",\n  \"seq\": 0\n}"u8.ToArray(),
        [0xEF, 0xBB, 0xBF, .. """{"timestamp":"9999-12-31T23:59:59.999999999Z","temperature":4.9e-324,"humidity":1.7976931348623157e308,"pressure":-1.7976931348623157e308}"""u8],
    ];

    // Pieces the mutations splice in: escapes, surrogates, JSON punctuation, limits, bad UTF-8, a byte order mark.
    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "\\ud800", "\\udc00", "\\udbff\\udfff", "\\ud83c\\udf21", "\\u0000", "\\u001f", "\\\"", "\\\\", "\\/", "\\u", "\\x",
            "\"", "{", "}", "[", "]", ",", ":", " ", "\n", "\t", "null", "true", "false", "NaN", "Infinity", "-Infinity",
            "1e309", "-1e309", "1.7976931348623157e308", "4.9e-324", "2.4e-324", "-0", "0", "1.5", "\"7\"", "-1", "1e30",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809", "00", "01", ".", "e", "E+", "-",
            "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0000-12-31T00:00:00Z", "T", "Z", "+18:00", "-18:01",
            "+14:00", ".9999999999", ".1234567", "24:00", "23:59:60", "02-29", "\"timestamp\": ", "\"temperature\": ",
            "\"humidity\": ", "\"pressure\": ", "\"identifier\": ", "\"seq\": ", "\"temp\\u0065rature\": ",
            new string('[', 600), new string('{', 40), new string('9', 400), "ノード", "🌡",
        }.Select(Encoding.UTF8.GetBytes),
        [0xEF, 0xBB, 0xBF], [0xFF], [0xFE, 0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x00],
    ];

    private static readonly string[] FieldNames = ["timestamp", "temperature", "humidity", "pressure", "identifier", "seq"];

    [Fact]
    public void DecodeAndStore_RandomBytes_NeverThrow() =>
        Sample(Gen.Byte.Array[0, 300], 20_000);

    [Fact]
    public void DecodeAndStore_MutatedReadings_NeverThrow() =>
        Sample(MutatedPayload, 60_000);

    [Fact]
    public void DecodeAndStore_GeneratedJsonWithRandomEscapes_NeverThrow() =>
        Sample(GeneratedObject.Select(Encoding.UTF8.GetBytes), 30_000);

    [Fact]
    public void DecodeAndStore_NumbersAndDatesAtTheLimits_NeverThrow() =>
        Sample(LimitsPayload.Select(Encoding.UTF8.GetBytes), 60_000);

    [Fact]
    public void DecodeAndStore_TutorialLinesAndCorpus_AreReadings()
    {
        foreach (var payload in Corpus)
        {
            CheckPayload(payload).Should().BeTrue(Describe(payload));
        }
    }

    [Fact]
    public void EncodeAndStore_AnyReading_WritesOrThrowsArgumentException() =>
        AnyReading.Sample(CheckReading, writeLine: WriteLine, iter: 30_000, print: r => r.ToString());

    private static Gen<byte[]> MutatedPayload { get; } =
        Gen.Select(
            Gen.Int[0, Corpus.Length - 1],
            Gen.Select(Gen.Int[0, 6], Gen.Int[0, int.MaxValue], Gen.Int[0, 24], Gen.Int[0, Tokens.Length - 1], Gen.Byte).Array[1, 3],
            (seed, mutations) => Mutate(Corpus[seed], mutations));

    private static Gen<string> Hex4 { get; } = Gen.Frequency(
        (3, Gen.Int[0xD800, 0xDFFF]), (2, Gen.Int[0, 0x7F]), (2, Gen.Int[0, 0xFFFF]), (1, Gen.OneOf(Gen.Const(0xFFFE), Gen.Const(0xFEFF), Gen.Const(0))))
        .Select(Gen.Bool, (u, upper) => u.ToString(upper ? "X4" : "x4", CultureInfo.InvariantCulture));

    // The inside of a JSON string: plain text, multi-byte characters, and escapes with surrogates alone or in pairs.
    private static Gen<string> StringBody { get; } = Gen.Frequency(
        (4, Gen.Char['a', 'z'].Array[1, 6].Select(c => new string(c))),
        (4, Hex4.Select(h => "\\u" + h)),
        (2, Gen.Select(Gen.Int[0xD800, 0xDBFF], Gen.Int[0xDC00, 0xDFFF], (h, l) => $"\\u{h:x4}\\u{l:x4}")),
        (2, Gen.OneOf("\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "ノード", "🌡", "é", " ", "-", ":", "+")))
        .Array[0, 8].Select(string.Concat);

    private static Gen<string> JsonString { get; } = StringBody.Select(s => "\"" + s + "\"");

    // A key: one of the reading's fields (sometimes spelled with an escape), or anything.
    private static Gen<string> Key { get; } = Gen.Frequency(
        (6, Gen.OneOf(FieldNames).Select(n => "\"" + n + "\"")),
        (2, Gen.Select(Gen.OneOf(FieldNames), Gen.Int[0, 8], (n, i) => "\"" + EscapeOne(n, i) + "\"")),
        (3, JsonString));

    // Numbers: mostly doubles as Python's repr writes them, then limits and past them, huge and long ones.
    private static Gen<string> Number { get; } = Gen.Frequency(
        (5, Gen.ULong.Select(bits => BitConverter.UInt64BitsToDouble(bits)).Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e'))),
        (3, Gen.Double[-100, 1100].Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (3, Gen.OneOf(
            "0", "-0", "-0.0", "1", "-1", "1.5", "25", "1e3", "1E+3", "1e-5", "1e308", "1e309", "-1e309", "1.7976931348623157e308",
            "1.7976931348623158e308", "1.7976931348623159e308", "4.9e-324", "2.4e-324", "5e-324", "1e-400", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e30", "7.0", "0e0",
            "26.72680231416598", "997.8079720341007")),
        (1, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Select(Gen.Bool, Gen.Int[1, 400], Gen.Int[0, 30], Gen.Int[-400, 400], (negative, digits, fraction, exponent) =>
            (negative ? "-" : string.Empty) + "1" + new string('0', digits - 1) + (fraction > 0 ? "." + new string('9', fraction) : string.Empty) + (exponent != 0 ? "e" + exponent.ToString(CultureInfo.InvariantCulture) : string.Empty))));

    // ISO 8601 dates and times: each part mostly in range, often at its edges, sometimes past them.
    private static Gen<string> Timestamp { get; } = Gen.Select(
        Gen.Frequency((3, Gen.OneOf(1, 2, 1969, 1970, 2024, 9998, 9999)), (2, Gen.Int[1, 9999]), (1, Gen.Const(0)), (1, Gen.Int[10000, 99999])),
        Gen.Frequency((2, Gen.OneOf(1, 2, 12)), (6, Gen.Int[1, 12]), (1, Gen.Int[0, 13])),
        Gen.Frequency((2, Gen.OneOf(1, 28, 29, 30, 31)), (6, Gen.Int[1, 28]), (1, Gen.Int[0, 32])),
        Gen.Frequency((2, Gen.OneOf(0, 23)), (6, Gen.Int[0, 23]), (1, Gen.Int[0, 25])),
        Gen.Frequency((2, Gen.OneOf(0, 59)), (6, Gen.Int[0, 59]), (1, Gen.Int[0, 61])),
        Gen.Frequency((2, Gen.OneOf(0, 59)), (6, Gen.Int[0, 59]), (1, Gen.Int[0, 61]), (1, Gen.Const(-1))),
        Gen.Frequency((2, Gen.OneOf(0, 6, 9)), (6, Gen.Int[0, 9]), (1, Gen.Int[10, 11])),
        Gen.Select(
            Gen.Frequency((8, Gen.Const("T")), (1, Gen.OneOf("t", " ", "x", ""))),
            Gen.Frequency((8, Gen.OneOf("Z", "+", "-")), (1, Gen.OneOf("z", "", "x"))),
            Gen.Frequency((2, Gen.OneOf(0, 12, 14, 18)), (6, Gen.Int[0, 18]), (1, Gen.Int[19, 99])),
            Gen.Frequency((2, Gen.OneOf(0, 30, 45, 59)), (6, Gen.Const(0)), (1, Gen.Int[0, 99])),
            Gen.Frequency((8, Gen.Const(":")), (1, Gen.OneOf("", "-"))),
            Gen.Frequency((8, Gen.Const(true)), (1, Gen.Const(false)))),
        (year, month, day, hour, minute, second, fraction, offset) =>
        {
            var (separator, sign, offHours, offMinutes, offSeparator, withMinutes) = offset;
            var text = new StringBuilder();
            text.Append(year.ToString(year > 9999 ? "D5" : "D4", CultureInfo.InvariantCulture)).Append('-')
                .Append(month.ToString("D2", CultureInfo.InvariantCulture)).Append('-').Append(day.ToString("D2", CultureInfo.InvariantCulture))
                .Append(separator).Append(hour.ToString("D2", CultureInfo.InvariantCulture)).Append(':').Append(minute.ToString("D2", CultureInfo.InvariantCulture));
            if (second >= 0)
            {
                text.Append(':').Append(second.ToString("D2", CultureInfo.InvariantCulture));
                if (fraction > 0)
                {
                    text.Append('.').Append('9', fraction);
                }
            }

            text.Append(sign);
            if (sign is "+" or "-")
            {
                text.Append(offHours.ToString("D2", CultureInfo.InvariantCulture));
                if (withMinutes)
                {
                    text.Append(offSeparator).Append(offMinutes.ToString("D2", CultureInfo.InvariantCulture));
                }
            }

            return text.ToString();
        });

    // Valid ISO 8601 instants, many of them in the first and last days of the years 1 to 9999, at any offset that
    // keeps the local date in those years, with 0 to 9 fraction digits.
    private static Gen<string> ValidTimestamp { get; } = Gen.Select(
        Gen.Frequency(
            (2, Gen.Long[0, DateTime.MaxValue.Ticks]),
            (1, Gen.Long[0, 2 * TimeSpan.TicksPerDay]),
            (1, Gen.Long[DateTime.MaxValue.Ticks - (2 * TimeSpan.TicksPerDay), DateTime.MaxValue.Ticks])),
        Gen.Frequency((1, Gen.Const(0)), (3, Gen.Int[-18 * 60, 18 * 60])),
        Gen.Int[0, 9],
        Gen.Int[0, 99],
        (ticks, offsetMinutes, digits, nanos) =>
        {
            var local = ticks + (offsetMinutes * TimeSpan.TicksPerMinute);
            if (local < 0 || local > DateTime.MaxValue.Ticks)
            {
                (local, offsetMinutes) = (ticks, 0);
            }

            var text = new DateTime(local, DateTimeKind.Unspecified).ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture);
            var fraction = ((local % TimeSpan.TicksPerSecond * 100) + nanos).ToString("D9", CultureInfo.InvariantCulture);
            text += digits == 0 ? string.Empty : "." + fraction[..digits];
            var sign = offsetMinutes < 0 ? '-' : '+';
            var offset = Math.Abs(offsetMinutes);
            return text + (offsetMinutes == 0 && nanos % 2 == 0 ? "Z" : string.Create(CultureInfo.InvariantCulture, $"{sign}{offset / 60:D2}:{offset % 60:D2}"));
        });

    private static Gen<string> AnyTimestamp { get; } = Gen.Frequency((3, ValidTimestamp), (2, Timestamp));

    private static Gen<string> Scalar { get; } = Gen.Frequency(
        (4, Number), (3, JsonString), (2, AnyTimestamp.Select(t => "\"" + t + "\"")), (1, Gen.OneOf("null", "true", "false", "NaN", "-Infinity")));

    // Any JSON value, nested a few levels: what an extra field may hold.
    private static Gen<string> Value { get; } = Gen.Recursive<string>((depth, value) => depth >= 4
        ? Scalar
        : Gen.Frequency(
            (6, Scalar),
            (1, value.Array[0, 4].Select(items => "[" + string.Join(", ", items) + "]")),
            (1, Gen.Select(Key, value).Array[0, 4].Select(members => "{" + string.Join(", ", members.Select(m => m.Item1 + ": " + m.Item2)) + "}"))));

    private static Gen<ulong> QuarterOfTheBits { get; } = Gen.Select(Gen.ULong, Gen.ULong, (a, b) => a & b);

    // A reading whose names and strings are spelled with escapes here and there (the same reading to any JSON reader),
    // with an identifier and extra fields full of escapes, surrogates alone and in pairs.
    private static Gen<string> GeneratedObject { get; } = Gen.Select(
        Gen.Select(AnyTimestamp, Number, Number, Number),
        Gen.Frequency((3, StringBody.Where(b => b.Length > 0)), (1, Gen.Char['a', 'z'].Array[1, 20].Select(c => new string(c)))),
        QuarterOfTheBits.Array[7],
        Gen.Shuffle(new[] { 0, 1, 2, 3, 4, 5 }, 6),
        Gen.Select(JsonString, Value).Array[0, 4],
        (values, identifier, masks, order, extras) =>
        {
            var (timestamp, temperature, humidity, pressure) = values;
            string[] texts = ["\"" + EscapeSome(timestamp, masks[6]) + "\"", temperature, humidity, pressure, "\"" + identifier + "\"", "7"];
            var members = order.Select(i => $"\"{EscapeSome(FieldNames[i], masks[i])}\": {texts[i]}").Concat(extras.Select(m => m.Item1 + ": " + m.Item2));
            return "{" + string.Join(", ", members) + "}";
        });

    // A reading's fields at and past their limits: mostly all six once in any order, sometimes some missing or twice.
    private static Gen<string> LimitsPayload { get; } = Gen.Select(
        Gen.Frequency((6, AnyTimestamp.Select(t => "\"" + t + "\"")), (1, Scalar)),
        Gen.Frequency((6, Number), (1, Scalar)),
        Gen.Frequency((6, Number), (1, Scalar)),
        Gen.Frequency((6, Number), (1, Scalar)),
        Gen.Frequency((4, Gen.Char['!', '~'].Array[1, 64].Select(c => "\"" + new string(c).Replace("\\", "/", StringComparison.Ordinal).Replace("\"", "'", StringComparison.Ordinal) + "\"")), (2, JsonString), (1, Scalar), (2, Gen.Const("null"))),
        Gen.Frequency((4, Number), (1, Scalar)),
        Gen.Select(
            Gen.Frequency((6, Gen.Shuffle(new[] { 0, 1, 2, 3, 4, 5 }, 6)), (1, Gen.Int[0, 6].Array[3, 9])),
            Gen.Frequency((3, Gen.Const(Array.Empty<(string, string)>())), (1, Gen.Select(Key, Value).Array[1, 3]))),
        (timestamp, temperature, humidity, pressure, identifier, seq, layout) =>
        {
            string[] values = [timestamp, temperature, humidity, pressure, identifier, seq];
            var (order, extras) = layout;
            var members = order.Select(i => i < 6 ? $"\"{FieldNames[i]}\": {values[i]}" : $"\"note\": {values[0]}").ToList();
            members.AddRange(extras.Select(m => m.Item1 + ": " + m.Item2));
            return "{" + string.Join(", ", members) + "}";
        });

    private static Gen<Instant> AnyInstant { get; } = Gen.Frequency(
        (4, Gen.Long[Instant.MinValue.ToUnixTimeTicks(), Instant.MaxValue.ToUnixTimeTicks()].Select(Gen.Int[0, 99], (t, n) => Instant.FromUnixTimeTicks(t).PlusNanoseconds(n))),
        (2, Gen.Long[FirstInstant.ToUnixTimeTicks() - 864_000_000_000, FirstInstant.ToUnixTimeTicks() + 864_000_000_000].Select(Instant.FromUnixTimeTicks)),
        (2, Gen.Long[Instant.MaxValue.ToUnixTimeTicks() - 864_000_000_000, Instant.MaxValue.ToUnixTimeTicks()].Select(Instant.FromUnixTimeTicks)),
        (1, Gen.OneOf(Instant.MinValue, Instant.MaxValue, FirstInstant, FirstInstant - Duration.Epsilon, Instant.FromUtc(2024, 10, 7, 23, 54, 50))));

    private static Gen<double> AnyDouble { get; } = Gen.Frequency(
        (4, Gen.ULong.Select(BitConverter.UInt64BitsToDouble)),
        (3, Gen.Double[-100, 1100]),
        (1, Gen.OneOf(0.0, -0.0, double.Epsilon, double.MaxValue, double.MinValue, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e-5, 25.0)));

    private static Gen<string?> AnyIdentifier { get; } = Gen.Frequency(
        (2, Gen.Char.Array[0, 70].Select(c => new string(c))),
        (2, Gen.Char['a', 'z'].Array[1, 64].Select(c => new string(c))),
        (1, Gen.Int[60, 70].Select(n => string.Concat(Enumerable.Repeat("🌡", n)))),
        (1, Gen.OneOf("\ud800", "a\udc00", "\udc00\ud800", string.Empty, "tochigi_iot_899", "ノード\"1\"")))
        .Null(0.2);

    private static Gen<long?> AnySequence { get; } = Gen.Frequency(
        (3, Gen.Long[0, long.MaxValue]), (1, Gen.Long), (1, Gen.OneOf(0L, 1L, long.MaxValue, -1L, long.MinValue)))
        .Nullable(0.3);

    private static Gen<AmbientReading> AnyReading { get; } =
        Gen.Select(AnyInstant, AnyDouble, AnyDouble, AnyDouble, AnyIdentifier, AnySequence, (t, a, b, c, id, seq) => new AmbientReading(t, a, b, c, id, seq));

    private static void WriteLine(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private static void Sample(Gen<byte[]> payloads, long count)
    {
        // How many became readings (and went on to the rows) and how many dead letters: a generator whose payloads are
        // all refused at the first byte would test little, so the split is in the test output.
        var readings = 0;
        var rejected = 0;
        payloads.Sample(
            payload => Interlocked.Increment(ref CheckPayload(payload) ? ref readings : ref rejected),
            writeLine: WriteLine,
            iter: count,
            print: Describe);
        WriteLine($"{readings + rejected} payloads: {readings} readings, {rejected} rejected");
    }

    /// <summary>Decodes <paramref name="payload"/> and takes the outcome through row preparation and the dead letters,
    /// checking each stage's promises; <see langword="true"/> when it was a reading.</summary>
    private static bool CheckPayload(byte[] payload)
    {
        var ok = AmbientPayload.TryDecode(payload, out var reading, out var error);
        if (ok)
        {
            CheckDecoded(reading);
            foreach (var preparation in Preparations)
            {
                Store(preparation, reading);
            }

            return true;
        }

        CheckText(error!, 400);
        try
        {
            AmbientPayload.Decode(payload);
            Assert.Fail("Decode took a payload TryDecode refused");
        }
        catch (AmbientPayloadException ex)
        {
            Assert.Equal(error, ex.Message);
        }

        // A dead letter of a payload depends on the zone only through the time it was received: one zone each, in turn.
        var zone = Preparations[payload.Length % Preparations.Length];
        var rejected = new RejectedPayload(SystemClock.Instance.GetCurrentInstant(), "raspi/bme", payload, error!);
        var deadLetter = zone.CollectDeadLetters([], [], [rejected]).Single();
        Assert.Equal(error, deadLetter.Reason);
        Assert.Equal(Math.Min(payload.Length, zone.MaxRejectedPayloadBytes), zone.PayloadPrefix(payload).Length);
        Assert.True(RowPreparation.Truncate(deadLetter.Reason, RowPreparation.ReasonLength).Length <= RowPreparation.ReasonLength);
        return false;
    }

    // What a decoded reading promises: finite values, an instant in the years 1 to 9999 (UTC), an identifier the table
    // holds, and a payload of its own that decodes to the same reading.
    private static void CheckDecoded(in AmbientReading reading)
    {
        Assert.True(double.IsFinite(reading.Temperature) && double.IsFinite(reading.Humidity) && double.IsFinite(reading.Pressure));
        Assert.True(reading.Timestamp >= FirstInstant);
        if (reading.Identifier is { } identifier)
        {
            Assert.True(identifier.Length > 0 && IsValidUtf16(identifier) && !identifier.Any(char.IsControl) && identifier.EnumerateRunes().Count() <= AmbientPayload.MaxIdentifierLength, identifier);
        }

        Assert.True(reading.Sequence is null or >= 0);
        Assert.Equal(reading with { Timestamp = TruncateToMicroseconds(reading.Timestamp) }, AmbientPayload.Decode(AmbientPayload.Encode(reading)));
    }

    private static void CheckReading(AmbientReading reading)
    {
        var valid = reading.Timestamp >= FirstInstant
            && double.IsFinite(reading.Temperature) && double.IsFinite(reading.Humidity) && double.IsFinite(reading.Pressure)
            && (reading.Identifier is null || (reading.Identifier.Length > 0 && IsValidUtf16(reading.Identifier) && !reading.Identifier.Any(char.IsControl)
                && reading.Identifier.EnumerateRunes().Count() <= AmbientPayload.MaxIdentifierLength))
            && reading.Sequence is null or >= 0;
        byte[] bytes;
        try
        {
            bytes = AmbientPayload.Encode(reading);
        }
        catch (ArgumentException ex)
        {
            Assert.False(valid, $"Encode refused a valid reading: {ex.Message}");
            CheckText(ex.Message, 400);
            StoreIfTheWireCouldCarryIt(reading);
            return;
        }

        Assert.True(valid, "Encode wrote a reading it should have refused");
        Assert.True(Utf8.IsValid(bytes));
        Assert.Equal(reading with { Timestamp = TruncateToMicroseconds(reading.Timestamp) }, AmbientPayload.Decode(bytes));
        Assert.Equal(AmbientPayload.EncodeToString(reading), Encoding.UTF8.GetString(bytes));
        StoreIfTheWireCouldCarryIt(reading);
    }

    private static void StoreIfTheWireCouldCarryIt(in AmbientReading reading)
    {
        foreach (var preparation in Preparations)
        {
            Store(preparation, reading);
        }
    }

    /// <summary>Runs a reading through <see cref="RowPreparation"/> as a repository does, then once more as if the
    /// database had refused it, so that every reading also takes the dead-letter path.</summary>
    private static void Store(RowPreparation preparation, AmbientReading reading)
    {
        AmbientReading[] readings = [reading];
        var rows = preparation.Prepare(readings);
        RowPreparation.ResetOutcomes(rows);
        var deadLetters = preparation.CollectDeadLetters(readings, rows, []);
        Assert.Equal(rows[0].ClientReason is null ? 0 : 1, deadLetters.Count);
        Assert.Single(RowPreparation.Result(rows, deadLetters.Count).Rows);

        rows[0].Outcome = RowOutcome.Rejected;
        rows[0].Reason ??= "refused by the database";
        var refused = preparation.CollectDeadLetters(readings, rows, []).Single();
        Assert.False(string.IsNullOrEmpty(refused.Reason));
        Assert.True(Utf8.IsValid(refused.Payload.Span));
    }

    private static byte[] Mutate(byte[] seed, (int Kind, int Position, int Length, int Token, byte Byte)[] mutations)
    {
        var bytes = new List<byte>(seed);
        foreach (var (kind, position, length, token, value) in mutations)
        {
            var at = bytes.Count == 0 ? 0 : position % (bytes.Count + 1);
            var count = Math.Min(length, bytes.Count - at);
            switch (kind)
            {
                case 0 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << (value & 7));
                    break;
                case 1 when at < bytes.Count:
                    bytes[at] = value;
                    break;
                case 2:
                    bytes.RemoveRange(at, count);
                    break;
                case 3 or 4:
                    bytes.InsertRange(at, Tokens[token]);
                    break;
                case 5:
                    bytes.RemoveRange(at, count);
                    bytes.InsertRange(at, Tokens[token]);
                    break;
                case 6:
                    bytes.InsertRange(value % (bytes.Count + 1), bytes.GetRange(at, count));
                    break;
            }
        }

        return [.. bytes];
    }

    private static string EscapeSome(string text, ulong mask)
    {
        var escaped = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if ((mask >> (i % 64) & 1) == 0)
            {
                escaped.Append(text[i]);
            }
            else
            {
                escaped.Append("\\u").Append(((int)text[i]).ToString(i % 2 == 0 ? "x4" : "X4", CultureInfo.InvariantCulture));
            }
        }

        return escaped.ToString();
    }

    private static string EscapeOne(string name, int index)
    {
        var i = index % name.Length;
        return name[..i] + "\\u" + ((int)name[i]).ToString("x4", CultureInfo.InvariantCulture) + name[(i + 1)..];
    }

    private static Instant TruncateToMicroseconds(Instant instant)
    {
        var ticks = instant.ToUnixTimeTicks();
        return Instant.FromUnixTimeTicks(ticks - (((ticks % 10) + 10) % 10));
    }

    // What goes into log lines and the dead-letter table must be text, and short.
    private static void CheckText(string text, int maxLength)
    {
        Assert.True(text.Length > 0 && text.Length <= maxLength && IsValidUtf16(text), text);
    }

    private static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(byte[] payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        var preview = text.Length > 300 ? text[..300] + "…" : text;
        return $"payload of {payload.Length} bytes, hex: {Convert.ToHexString(payload)}\n  as text: {preview}";
    }
}
