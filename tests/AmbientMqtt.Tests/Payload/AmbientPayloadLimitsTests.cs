using System.Text;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.Tests.Payload;

/// <summary>
/// Payloads at and past every limit: each one must become a reading or a reason, never an exception (issue 9, items
/// 1 and 8). The first tests are the four payloads that crashed MqttInsert.
/// </summary>
public sealed class AmbientPayloadLimitsTests
{
    private const string Values = "\"temperature\": 1.5, \"humidity\": 2.5, \"pressure\": 3.5";

    [Fact]
    public void TryDecode_LoneSurrogateInIdentifier_RejectsNamingTheField()
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "identifier": "\ud800"}""";

        var ok = AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error);

        ok.Should().BeFalse();
        error.Should().Be("field 'identifier': holds a lone UTF-16 surrogate (\\ud800 at character 1), which is not text");
    }

    [Theory]
    [InlineData("\\udc00", "\\udc00 at character 1")]
    [InlineData("node\\ud83c", "\\ud83c at character 5")]
    [InlineData("\\udf21\\ud83c", "\\udf21 at character 1")]
    [InlineData("a\\ud800\\ud800", "\\ud800 at character 2")]
    public void TryDecode_AnyLoneSurrogateInIdentifier_Rejects(string escaped, string where)
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "identifier": "{{escaped}}"}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be($"field 'identifier': holds a lone UTF-16 surrogate ({where}), which is not text");
    }

    [Theory]
    [InlineData("node\\n7", "U+000A at character 5")]
    [InlineData("\\u001b[2Jnode", "U+001B at character 1")]
    [InlineData("🌡\\u0000", "U+0000 at character 2")]
    [InlineData("a\\r", "U+000D at character 2")]
    [InlineData("a\\u007f", "U+007F at character 2")]
    [InlineData("a\\u0085b", "U+0085 at character 2")]
    public void TryDecode_ControlCharacterInIdentifier_RejectsNamingIt(string escaped, string where)
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "identifier": "{{escaped}}"}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be($"field 'identifier': holds a control character ({where}), which would break the lines that show it");
    }

    [Fact]
    public void Encode_ControlCharacterInIdentifier_ThrowsArgumentException()
    {
        var act = () => AmbientPayload.Encode(new AmbientReading(Instant.FromUtc(2024, 1, 1, 0, 0), 1, 2, 3, "node\n7"));

        act.Should().Throw<ArgumentException>().WithMessage("field 'identifier': holds a control character (U+000A at character 5)*");
    }

    [Fact]
    public void Decode_EscapedSurrogatePairInIdentifier_IsOneCharacter()
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "identifier": "n\ud83c\udf21\u0022"}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Identifier.Should().Be("n🌡\"");
    }

    [Theory]
    [InlineData("""{"\udc00x": 1, "timestamp": "2024-10-07T23:54:50Z", VALUES}""")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "\ud800": "\udc00", VALUES}""")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", VALUES, "note": {"\ud800": ["\udfff", {"k": "\ud800"}]}}""")]
    public void Decode_LoneSurrogateInAnIgnoredField_KeepsTheReading(string template)
    {
        var payload = template.Replace("VALUES", Values, StringComparison.Ordinal);

        var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload));

        reading.Should().Be(new AmbientReading(Instant.FromUtc(2024, 10, 7, 23, 54, 50), 1.5, 2.5, 3.5));
    }

    [Fact]
    public void TryDecode_LoneSurrogateInTimestamp_NamesTheField()
    {
        var payload = $$"""{"timestamp": "\ud8002024-10-07T23:54:50Z", {{Values}}}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().StartWith("field 'timestamp': ").And.Contain("is not an ISO 8601 date and time");
    }

    [Fact]
    public void Decode_EscapedTimestamp_IsRead()
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50\u002B09:00", {{Values}}}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Timestamp.Should().Be(Instant.FromUtc(2024, 10, 7, 14, 54, 50));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00+14:00", "'0001-01-01T00:00:00+14:00' is 0000-12-31T10:00:00 in UTC, outside the years 1 to 9999")]
    [InlineData("9999-12-31T23:59:59-12:00", "'9999-12-31T23:59:59-12:00' is 10000-01-01T11:59:59 in UTC, outside the years 1 to 9999")]
    [InlineData("0001-01-01T13:59:59.999999999+14:00", "* is 0000-12-31T23:59:59.999999999 in UTC, outside the years 1 to 9999")]
    [InlineData("9999-12-31T12:00:00-12:00", "* is 10000-01-01T00:00:00 in UTC, outside the years 1 to 9999")]
    [InlineData("0001-01-01T00:00:00+18:00", "* is 0000-12-31T06:00:00 in UTC, outside the years 1 to 9999")]
    [InlineData("9999-12-31T23:59:59.999999999-18:00", "* is 10000-01-01T17:59:59.999999999 in UTC, outside the years 1 to 9999")]
    [InlineData("0000-01-01T00:00:00Z", "'0000-01-01T00:00:00Z' is outside the years 1 to 9999")]
    [InlineData("0000-12-31T23:00:00-02:00", "'0000-12-31T23:00:00-02:00' is outside the years 1 to 9999")]
    public void TryDecode_TimestampOutsideTheYears1To9999InUtc_RejectsSayingSo(string timestamp, string expected)
    {
        var payload = $$"""{"timestamp": "{{timestamp}}", {{Values}}}""";

        var ok = AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error);

        ok.Should().BeFalse();
        error.Should().Match("field 'timestamp': " + expected);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z")]
    [InlineData("0001-01-01T14:00:00+14:00", "0001-01-01T00:00:00Z")]
    [InlineData("0001-01-01T00:00:00-12:00", "0001-01-01T12:00:00Z")]
    [InlineData("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z")]
    [InlineData("9999-12-31T11:59:59.999999-12:00", "9999-12-31T23:59:59.999999Z")]
    [InlineData("9999-12-31T23:59:59+14:00", "9999-12-31T09:59:59Z")]
    [InlineData("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z")]
    [InlineData("1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z")]
    public void Decode_TimestampAtTheEdgesOfTheYears1To9999InUtc_IsAccepted(string timestamp, string expected)
    {
        var payload = $$"""{"timestamp": "{{timestamp}}", {{Values}}}""";

        var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload));

        reading.Timestamp.Should().Be(InstantPattern.ExtendedIso.Parse(expected).Value);
    }

    [Theory]
    [InlineData(1, 1, 1, 0, 0, 0, 0, "0001-01-01T00:00:00.000000+00:00")]
    [InlineData(9999, 12, 31, 23, 59, 59, 999_999_999, "9999-12-31T23:59:59.999999+00:00")]
    public void Encode_InstantInYear1Or9999_WritesIt(int year, int month, int day, int hour, int minute, int second, long nanos, string expected)
    {
        var instant = Instant.FromUtc(year, month, day, hour, minute, second).PlusNanoseconds(nanos);

        var text = AmbientPayload.EncodeToString(new AmbientReading(instant, 1, 2, 3));

        text.Should().StartWith($$"""{"timestamp": "{{expected}}", """);
        AmbientPayload.Decode(Encoding.UTF8.GetBytes(text)).Timestamp.Should().Be(Instant.FromUtc(year, month, day, hour, minute, second).PlusNanoseconds(nanos / 1000 * 1000));
    }

    [Fact]
    public void Encode_InstantBeforeYear1_ThrowsArgumentExceptionNamingTheRange()
    {
        var instants = new[] { Instant.FromUtc(0, 12, 31, 10, 0), Instant.FromUtc(1, 1, 1, 0, 0) - Duration.Epsilon, Instant.MinValue };

        foreach (var instant in instants)
        {
            var act = () => AmbientPayload.Encode(new AmbientReading(instant, 1, 2, 3));

            act.Should().Throw<ArgumentException>()
                .Where(e => e.GetType() == typeof(ArgumentException))
                .WithMessage("Timestamp * is outside the years 1 to 9999 in UTC*");
        }
    }

    [Fact]
    public void Encode_LoneSurrogateInIdentifier_ThrowsArgumentExceptionNamingIt()
    {
        var act = () => AmbientPayload.Encode(new AmbientReading(Instant.FromUtc(2024, 1, 1, 0, 0), 1, 2, 3, "node\ud800"));

        act.Should().Throw<ArgumentException>().WithMessage("field 'identifier': holds a lone UTF-16 surrogate (\\ud800 at character 5)*");
    }

    [Fact]
    public void Encode_LongestReading_FitsAndRoundTrips()
    {
        // 64 characters outside the BMP, each escaped as two \uXXXX, and the longest numbers "R" writes.
        var reading = new AmbientReading(
            Instant.MaxValue, double.MinValue, -2.2250738585072014E-308, -1.2345678901234567E-300, string.Concat(Enumerable.Repeat("🌡", 64)));

        var bytes = AmbientPayload.Encode(reading);

        AmbientPayload.Decode(bytes).Should().Be(reading with { Timestamp = Instant.FromUtc(9999, 12, 31, 23, 59, 59).PlusNanoseconds(999_999_000) });
    }

    [Theory]
    [InlineData("1e309", "field 'temperature': 1e309 is out of range for a double")]
    [InlineData("-1e309", "field 'temperature': -1e309 is out of range for a double")]
    [InlineData("1.7976931348623159e308", "field 'temperature': 1.7976931348623159e308 is out of range for a double")]
    public void TryDecode_NumberPastTheLargestDouble_SaysOutOfRange(string number, string expected)
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "temperature": {{number}}, "humidity": 2, "pressure": 3}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be(expected);
    }

    [Theory]
    [InlineData("1.7976931348623157e308", 1.7976931348623157e308)]
    [InlineData("-1.7976931348623157e308", -1.7976931348623157e308)]
    [InlineData("4.9e-324", double.Epsilon)]
    [InlineData("2.4e-324", 0.0)]
    [InlineData("1e-400", 0.0)]
    [InlineData("-0", -0.0)]
    [InlineData("0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001", 1e-101)]
    public void Decode_NumberAtTheLimitsOfDouble_ReadsWhatPythonReads(string number, double expected)
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "temperature": {{number}}, "humidity": 2, "pressure": 3}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Temperature.Should().Be(expected);
    }

    [Fact]
    public void TryDecode_HugeNumber_KeepsTheReasonShort()
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "temperature": {{new string('9', 100_000)}}, "humidity": 2, "pressure": 3}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().StartWith("field 'temperature': 9999").And.EndWith("… (100000 characters) is out of range for a double");
        error!.Length.Should().BeLessThan(200);
    }

    [Fact]
    public void TryDecode_HugeStrings_KeepTheReasonShort()
    {
        var huge = new string('x', 1_000_000);
        var payloads = new[]
        {
            $$"""{"timestamp": "{{huge}}", {{Values}}}""",
            $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "identifier": "{{huge}}"}""",
            $$"""{"{{huge}}": NaN, "timestamp": "2024-10-07T23:54:50Z", {{Values}}}""",
        };

        foreach (var payload in payloads)
        {
            AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

            error!.Length.Should().BeLessThan(200, error);
        }
    }

    [Fact]
    public void Decode_HugeIgnoredString_KeepsTheReading()
    {
        var payload = $$"""{"note": "{{new string('x', 1_000_000)}}", "timestamp": "2024-10-07T23:54:50Z", {{Values}}}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Temperature.Should().Be(1.5);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(511)]
    public void Decode_IgnoredFieldNestedDeep_KeepsTheReading(int depth)
    {
        // The reading's object is level 1, so an extra field may nest 511 levels below it.
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "note": {{new string('[', depth)}}{{new string(']', depth)}}, {{Values}}}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Temperature.Should().Be(1.5);
    }

    [Fact]
    public void TryDecode_100000OpeningBrackets_StopsAtTheDepthBound()
    {
        var inField = Encoding.UTF8.GetBytes($$"""{"note": {{new string('[', 100_000)}}""");
        var bare = Encoding.UTF8.GetBytes(new string('[', 100_000));

        AmbientPayload.TryDecode(inField, out _, out var error).Should().BeFalse();
        AmbientPayload.TryDecode(bare, out _, out var bareError).Should().BeFalse();

        // Byte 520 is the 512th '[', the 513th level under the object: the reader gave up there, not after 100,000 bytes.
        error.Should().Be("payload nests arrays and objects deeper than 512 levels (at byte 520)");
        bareError.Should().Be("payload is an array, not a JSON object");
    }

    [Fact]
    public void Decode_Utf8ByteOrderMark_IsSkipped()
    {
        byte[] payload = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}}""")];

        AmbientPayload.Decode(payload).Pressure.Should().Be(3.5);
    }

    [Theory]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF }, "payload holds only a byte order mark")]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, 0x20, 0x0A }, "payload is blank (only white space)")]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, 0x7B, 0x7D }, "payload is not valid JSON at byte 3: *")]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00 }, "payload is not UTF-8 text (it starts with a UTF-16 byte order mark)")]
    [InlineData(new byte[] { 0x7B, 0xC0, 0x80, 0x7D }, "payload is not UTF-8 text (invalid byte 0xC0 at byte 1)")]
    [InlineData(new byte[] { 0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D }, "payload is not UTF-8 text (invalid byte 0xED at byte 2)")]
    [InlineData(new byte[] { 0x7B, 0x22, 0xE2, 0x82 }, "payload is not UTF-8 text (invalid byte 0xE2 at byte 2)")]
    public void TryDecode_ByteOrderMarksAndBadUtf8_SaySo(byte[] payload, string expected)
    {
        AmbientPayload.TryDecode(payload, out _, out var error).Should().BeFalse();

        error.Should().Match(expected);
    }

    [Theory]
    [InlineData("timestamp", "\"2024-10-07T23:54:51Z\"")]
    [InlineData("temperature", "1.5")]
    [InlineData("humidity", "2.5")]
    [InlineData("pressure", "4")]
    [InlineData("identifier", "\"node-8\"")]
    [InlineData("identifier", "null")]
    public void TryDecode_DuplicatedField_RejectsNamingIt(string field, string secondValue)
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "identifier": "node-7", "{{field}}": {{secondValue}}}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be($"field '{field}': appears twice; a reading has one value for each field");
    }

    [Fact]
    public void TryDecode_DuplicatedFieldSpelledWithAnEscape_IsStillTheSameField()
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", {{Values}}, "temp\u0065rature": 9}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be("field 'temperature': appears twice; a reading has one value for each field");
    }

    [Fact]
    public void Decode_DuplicatedIgnoredField_KeepsTheReading()
    {
        var payload = $$$"""{"note": 1, "timestamp": "2024-10-07T23:54:50Z", "note": [2], {{{Values}}}, "note": {"a": 3}}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Humidity.Should().Be(2.5);
    }

    [Fact]
    public void TryDecode_NaNOnASecondLine_NamesTheField()
    {
        var payload = "{\n  \"timestamp\": \"2024-10-07T23:54:50Z\",\n  \"temperature\": 1,\n  \"humidity\": NaN,\n  \"pressure\": 3\n}";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be("field 'humidity': NaN is not a finite number");
    }
}
