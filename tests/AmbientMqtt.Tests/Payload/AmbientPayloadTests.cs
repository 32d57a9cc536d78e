using System.Text;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.Tests.Payload;

public sealed class AmbientPayloadTests
{
    // The tutorial's three sample lines (mosquitto_sub output of mqtt_bme280_publish01.py), byte for byte.
    public static readonly TheoryData<string, string, double, double, double> SeedLines = new()
    {
        {
            """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}""",
            "2024-10-07T23:54:50.547143Z", 26.72680231416598, 57.53434981211512, 997.8079720341007
        },
        {
            """{"timestamp": "2024-10-07T23:55:00.555341+00:00", "temperature": 26.731868814124027, "humidity": 57.55789094105844, "pressure": 997.7028226020932}""",
            "2024-10-07T23:55:00.555341Z", 26.731868814124027, 57.55789094105844, 997.7028226020932
        },
        {
            """{"timestamp": "2024-10-07T23:55:10.565033+00:00", "temperature": 26.731868814124027, "humidity": 57.56373069656037, "pressure": 997.7028226020932}""",
            "2024-10-07T23:55:10.565033Z", 26.731868814124027, 57.56373069656037, 997.7028226020932
        },
    };

    [Theory]
    [MemberData(nameof(SeedLines))]
    public void Decode_SeedLine_ReadsExactValues(string line, string instant, double temperature, double humidity, double pressure)
    {
        var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(line));

        reading.Timestamp.Should().Be(InstantPattern.ExtendedIso.Parse(instant).Value);
        reading.Temperature.Should().Be(temperature);
        reading.Humidity.Should().Be(humidity);
        reading.Pressure.Should().Be(pressure);
        reading.Identifier.Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(SeedLines))]
    public void Encode_SeedReading_WritesTheTutorialsBytes(string line, string instant, double temperature, double humidity, double pressure)
    {
        var reading = new AmbientReading(InstantPattern.ExtendedIso.Parse(instant).Value, temperature, humidity, pressure);

        AmbientPayload.EncodeToString(reading).Should().Be(line);
        Encoding.UTF8.GetString(AmbientPayload.Encode(reading)).Should().Be(line);
    }

    [Fact]
    public void Encode_SubMicrosecondInstant_TruncatesToMicroseconds()
    {
        var instant = Instant.FromUtc(2024, 10, 7, 23, 54, 50).PlusNanoseconds(547_143_999);

        var text = AmbientPayload.EncodeToString(new AmbientReading(instant, 1, 2, 3));

        text.Should().StartWith("""{"timestamp": "2024-10-07T23:54:50.547143+00:00", """);
    }

    [Fact]
    public void Encode_WholeNumbers_WritesThemAsPythonFloats()
    {
        var text = AmbientPayload.EncodeToString(new AmbientReading(Instant.FromUtc(2024, 1, 1, 0, 0), 25, 0, 1000));

        text.Should().Be("""{"timestamp": "2024-01-01T00:00:00.000000+00:00", "temperature": 25.0, "humidity": 0.0, "pressure": 1000.0}""");
    }

    [Fact]
    public void Encode_Identifier_IsAddedLastAndEscaped()
    {
        var reading = new AmbientReading(Instant.FromUtc(2024, 1, 1, 0, 0), 1.5, 2.5, 3.5, "node \"7\"");

        var text = AmbientPayload.EncodeToString(reading);

        text.Should().EndWith(""", "identifier": "node \u00227\u0022"}""");
        AmbientPayload.Decode(Encoding.UTF8.GetBytes(text)).Identifier.Should().Be("node \"7\"");
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Encode_NonFiniteValue_Throws(double value)
    {
        var act = () => AmbientPayload.Encode(new AmbientReading(Instant.FromUtc(2024, 1, 1, 0, 0), value, 50, 1000));

        act.Should().Throw<ArgumentException>().WithMessage("*Temperature*finite*");
    }

    [Theory]
    [InlineData(-273.15)]
    [InlineData(1e-7)]
    [InlineData(123456.789012345)]
    [InlineData(0.1 + 0.2)]
    [InlineData(double.Epsilon)]
    [InlineData(1.7976931348623157e308)]
    public void EncodeThenDecode_AnyFiniteValue_RoundTripsExactly(double value)
    {
        var reading = new AmbientReading(Instant.FromUtc(2030, 12, 31, 23, 59, 59).PlusNanoseconds(999_999_000), value, value, value, "n1");

        var decoded = AmbientPayload.Decode(AmbientPayload.Encode(reading));

        decoded.Should().Be(reading);
    }

    [Theory]
    [InlineData("2024-10-07T23:54:50Z", "2024-10-07T23:54:50Z")]
    [InlineData("2024-10-07T23:54:50.5Z", "2024-10-07T23:54:50.5Z")]
    [InlineData("2024-10-08T08:54:50.547143+09:00", "2024-10-07T23:54:50.547143Z")]
    [InlineData("2024-10-07T23:54:50.5471431+00:00", "2024-10-07T23:54:50.5471431Z")]
    [InlineData("2024-10-07T18:24:50-05:30", "2024-10-07T23:54:50Z")]
    [InlineData("2024-10-07 23:54:50.547143+00:00", "2024-10-07T23:54:50.547143Z")]
    [InlineData("2024-10-08T08:54:50+0900", "2024-10-07T23:54:50Z")]
    [InlineData("2024-10-07T23:54z", "2024-10-07T23:54:00Z")]
    [InlineData("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z")]
    public void Decode_AnyIsoInstantWithOffset_IsAccepted(string timestamp, string expected)
    {
        var payload = $$"""{"timestamp": "{{timestamp}}", "temperature": 1, "humidity": 2, "pressure": 3}""";

        var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload));

        reading.Timestamp.Should().Be(InstantPattern.ExtendedIso.Parse(expected).Value);
    }

    [Theory]
    [InlineData("", "payload is empty")]
    [InlineData("   ", "payload is blank*")]
    [InlineData("hello", "payload is not valid JSON*")]
    [InlineData("[1, 2, 3]", "payload is an array, not a JSON object")]
    [InlineData("42", "payload is a number, not a JSON object")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2}""", "missing field 'pressure'")]
    [InlineData("""{"foo": 1}""", "missing field 'timestamp', 'temperature', 'humidity', 'pressure'")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": "26.7", "humidity": 2, "pressure": 3}""", "field 'temperature': expected a number, got a string")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": null, "humidity": 2, "pressure": 3}""", "field 'temperature': expected a number, got null")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": NaN, "humidity": 2, "pressure": 3}""", "field 'temperature': NaN is not a finite number")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": Infinity, "pressure": 3}""", "field 'humidity': Infinity is not a finite number")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": -Infinity}""", "field 'pressure': -Infinity is not a finite number")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1e999, "humidity": 2, "pressure": 3}""", "field 'temperature': 1e999 is out of range*")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50", "temperature": 1, "humidity": 2, "pressure": 3}""", "field 'timestamp': '2024-10-07T23:54:50' has no UTC offset*")]
    [InlineData("""{"timestamp": "2024-02-30T00:00:00Z", "temperature": 1, "humidity": 2, "pressure": 3}""", "field 'timestamp': '2024-02-30T00:00:00Z' is not a real date and time")]
    [InlineData("""{"timestamp": "2024-10-07T25:00:00Z", "temperature": 1, "humidity": 2, "pressure": 3}""", "field 'timestamp': * is not a real date and time")]
    [InlineData("""{"timestamp": "yesterday", "temperature": 1, "humidity": 2, "pressure": 3}""", "field 'timestamp': 'yesterday' is not an ISO 8601*")]
    [InlineData("""{"timestamp": 1728345290, "temperature": 1, "humidity": 2, "pressure": 3}""", "field 'timestamp': expected an ISO 8601 string, got a number")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "identifier": ""}""", "field 'identifier': is empty")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "identifier": 7}""", "field 'identifier': expected a string, got a number")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3}{}""", "payload has data after the JSON object")]
    [InlineData("""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1""", "payload is not valid JSON*")]
    public void TryDecode_BadPayload_NamesFieldAndProblem(string payload, string expectedPattern)
    {
        var ok = AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error);

        ok.Should().BeFalse();
        error.Should().Match(expectedPattern);
    }

    [Fact]
    public void TryDecode_NotUtf8_SaysSo()
    {
        byte[] payload = [0x7B, 0xFF, 0xFE, 0x7D];

        AmbientPayload.TryDecode(payload, out _, out var error).Should().BeFalse();

        error.Should().Be("payload is not UTF-8 text (invalid byte 0xFF at byte 1)");
    }

    [Fact]
    public void TryDecode_IdentifierLongerThanColumn_NamesTheLimit()
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "identifier": "{{new string('x', 65)}}"}""";

        AmbientPayload.TryDecode(Encoding.UTF8.GetBytes(payload), out _, out var error).Should().BeFalse();

        error.Should().Be("field 'identifier': is 65 characters long; the table holds at most 64");
    }

    [Fact]
    public void Decode_IdentifierOf64Characters_IncludingOutsideTheBmp_IsAccepted()
    {
        var identifier = string.Concat(Enumerable.Repeat("🌡", 64));
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "identifier": "{{identifier}}"}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Identifier.Should().Be(identifier);
    }

    [Fact]
    public void Decode_ExtraFieldsAndOtherOrder_AreIgnored()
    {
        var payload = """{"pressure": 3, "note": {"a": [1, 2]}, "humidity": 2, "temperature": 1, "timestamp": "2024-10-07T23:54:50Z", "identifier": "n"}""";

        var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload));

        reading.Should().Be(new AmbientReading(Instant.FromUtc(2024, 10, 7, 23, 54, 50), 1, 2, 3, "n"));
    }

    [Fact]
    public void Decode_BadPayload_ThrowsWithTheSameMessage()
    {
        var act = () => AmbientPayload.Decode("""{"timestamp": "2024-10-07T23:54:50Z"}"""u8);

        act.Should().Throw<AmbientPayloadException>().WithMessage("missing field 'temperature', 'humidity', 'pressure'");
    }
}
