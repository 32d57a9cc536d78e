using System.Text;
using NodaTime;

namespace AmbientMqtt.Tests.Payload;

/// <summary>
/// The optional <c>seq</c> field (DESIGN.md: "an optional seq integer numbers a publisher's readings"): written after
/// the tutorial's fields and the identifier, read when it is a count, and never the reason a reading is lost.
/// </summary>
public sealed class AmbientPayloadSequenceTests
{
    private static readonly Instant At = Instant.FromUtc(2024, 10, 7, 23, 54, 50).PlusNanoseconds(547_143_000);

    [Fact]
    public void Encode_Sequence_IsWrittenLastAfterTheIdentifier()
    {
        var text = AmbientPayload.EncodeToString(new AmbientReading(At, 26.72680231416598, 57.53434981211512, 997.8079720341007, "tochigi_iot_899", 1204));

        text.Should().Be("""{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007, "identifier": "tochigi_iot_899", "seq": 1204}""");
    }

    [Fact]
    public void Encode_SequenceWithoutIdentifier_FollowsThePressure()
    {
        var text = AmbientPayload.EncodeToString(new AmbientReading(At, 1.5, 2.5, 3.5, Sequence: 0));

        text.Should().EndWith(""", "pressure": 3.5, "seq": 0}""");
    }

    [Fact]
    public void Encode_NoSequence_WritesNoSeqField()
    {
        AmbientPayload.EncodeToString(new AmbientReading(At, 1.5, 2.5, 3.5, "n")).Should().NotContain("seq");
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void Encode_NegativeSequence_ThrowsArgumentException(long sequence)
    {
        var act = () => AmbientPayload.Encode(new AmbientReading(At, 1.5, 2.5, 3.5, Sequence: sequence));

        act.Should().Throw<ArgumentException>().WithMessage($"Sequence is {sequence}; a sequence number is 0 or more.*");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void EncodeThenDecode_Sequence_RoundTrips(long sequence)
    {
        var reading = new AmbientReading(At, 1.5, 2.5, 3.5, "node-7", sequence);

        AmbientPayload.Decode(AmbientPayload.Encode(reading)).Should().Be(reading);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("7", 7L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Decode_SeqCount_IsTheSequence(string seq, long expected)
    {
        var payload = $$"""{"seq": {{seq}}, "timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Sequence.Should().Be(expected);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("\"7\"")]
    [InlineData("-1")]
    [InlineData("1e30")]
    [InlineData("null")]
    [InlineData("7.0")]
    [InlineData("1e3")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("true")]
    [InlineData("[7]")]
    [InlineData("{\"n\": 7, \"deep\": [[[1]]]}")]
    public void Decode_SeqThatIsNotACount_KeepsTheReadingWithoutSequence(string seq)
    {
        var payload = $$"""{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "identifier": "n", "seq": {{seq}}}""";

        var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload));

        reading.Should().Be(new AmbientReading(Instant.FromUtc(2024, 10, 7, 23, 54, 50), 1, 2, 3, "n", null));
    }

    [Theory]
    [InlineData("7", "8")]
    [InlineData("7", "7")]
    [InlineData("\"x\"", "8")]
    public void Decode_SeqTwice_KeepsTheReadingWithoutSequence(string first, string second)
    {
        var payload = $$"""{"seq": {{first}}, "timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "seq": {{second}}}""";

        AmbientPayload.Decode(Encoding.UTF8.GetBytes(payload)).Sequence.Should().BeNull();
    }

    [Fact]
    public void Decode_SeqHoldingNaN_IsNotJsonAndRefusesThePayload()
    {
        // NaN is not JSON at all (only Python writes it): the payload cannot be read, so no reading is taken from it.
        var payload = """{"timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3, "seq": NaN}"""u8;

        AmbientPayload.TryDecode(payload, out _, out var error).Should().BeFalse();

        error.Should().Be("field 'seq': NaN is not a finite number");
    }

    [Fact]
    public void Decode_SeqSpelledWithAnEscape_IsTheSequence()
    {
        var payload = """{"s\u0065q": 12, "timestamp": "2024-10-07T23:54:50Z", "temperature": 1, "humidity": 2, "pressure": 3}"""u8;

        AmbientPayload.Decode(payload).Sequence.Should().Be(12);
    }
}
