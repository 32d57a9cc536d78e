using System.Globalization;
using System.Text;

namespace AmbientMqtt.Logging;

/// <summary>
/// Text from the wire (a topic, a payload's words in a reason) made fit for a log line: a control character (a line
/// break could forge a line of its own) is written as <c>\xNN</c>, and a very long text is cut.
/// </summary>
internal static class LogText
{
    private const int MaxLength = 200;

    public static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var clean = true;
        foreach (var c in text)
        {
            if (NeedsEscape(c))
            {
                clean = false;
                break;
            }
        }

        if (clean && text.Length <= MaxLength)
        {
            return text;
        }

        var builder = new StringBuilder(Math.Min(text.Length, MaxLength) + 16);
        foreach (var c in text)
        {
            if (builder.Length >= MaxLength)
            {
                builder.Append(CultureInfo.InvariantCulture, $"… ({text.Length} characters)");
                break;
            }

            if (NeedsEscape(c))
            {
                builder.Append(c <= '\u00ff' ? "\\x" : "\\u").Append(((int)c).ToString(c <= '\u00ff' ? "x2" : "x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
