using AmbientMqtt.Logging;

namespace AmbientMqtt.Tests.Logging;

public sealed class LogTextTests
{
    [Theory]
    [InlineData("raspi/bme", "raspi/bme")]
    [InlineData("raspi/x\n12:00:00 crit: forged line", "raspi/x\\x0a12:00:00 crit: forged line")]
    [InlineData("a\u0000b\u001bc\u007fd\u2028e", "a\\x00b\\x1bc\\x7fd\\u2028e")]
    [InlineData("温度/🌡", "温度/🌡")]
    public void Printable_ControlCharacters_AreWrittenAsEscapes(string text, string expected)
        => LogText.Printable(text).Should().Be(expected);

    [Fact]
    public void Printable_LongText_IsCutWithItsLength()
    {
        var printable = LogText.Printable(new string('t', 70_000));

        printable.Should().StartWith(new string('t', 200)).And.EndWith("… (70000 characters)");
    }
}
