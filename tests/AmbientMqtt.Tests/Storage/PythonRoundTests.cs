using AmbientMqtt.Storage;

namespace AmbientMqtt.Tests.Storage;

public sealed class PythonRoundTests
{
    // Expected values are what CPython 3 prints for round(x, 2).
    [Theory]
    [InlineData(26.72680231416598, 26.73)]
    [InlineData(57.53434981211512, 57.53)]
    [InlineData(997.8079720341007, 997.81)]
    [InlineData(2.675, 2.67)] // the binary value is just below the tie
    [InlineData(0.125, 0.12)] // an exact tie goes to even
    [InlineData(0.375, 0.38)]
    [InlineData(-0.125, -0.12)]
    [InlineData(1.005, 1.0)] // 1.00499999999999989…
    [InlineData(45.9, 45.9)]
    [InlineData(996.875, 996.88)] // exact tie, 88 is even
    [InlineData(996.865, 996.87)] // 996.86500000000000909…
    [InlineData(0.0, 0.0)]
    [InlineData(12345678.125, 12345678.12)]
    public void Round2_MatchesPython(double value, double expected)
    {
        PythonRound.Round2(value).Should().Be(expected);
    }
}
