namespace AmbientMqtt.Tests;

public sealed class AmbientPayloadTests
{
    [Fact]
    public void Decode_SeedLine_ReadsValues()
    {
        var r = AmbientPayload.Decode("""{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}"""u8);
        r.Temperature.Should().Be(26.72680231416598);
    }
}
