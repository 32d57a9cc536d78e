using System.Buffers;
using System.Text;

namespace AmbientMqtt;

/// <summary>
/// JSON string tokens read from the raw bytes <see cref="System.Text.Json.Utf8JsonReader"/> hands over, and pieces of a
/// payload quoted in error messages.
/// </summary>
/// <remarks>
/// <see cref="System.Text.Json.Utf8JsonReader.GetString"/> throws <see cref="InvalidOperationException"/> for an escaped
/// lone surrogate (<c>"\ud800"</c>): valid JSON, which Python's <c>json</c> reads without complaint, so the bytes of a
/// single message could stop a program that catches only <see cref="System.Text.Json.JsonException"/>. Here such an
/// escape becomes the lone UTF-16 code unit it names, and the caller decides what a field may hold.
/// </remarks>
internal static class JsonText
{
    /// <summary>The longest quote of a payload in an error message, in bytes of UTF-8.</summary>
    public const int MaxQuoteBytes = 64;

    /// <summary>Turns the raw bytes of a JSON string (valid UTF-8, escapes already checked by the reader) into text,
    /// keeping a lone surrogate escape as the lone code unit.</summary>
    /// <param name="raw">The bytes between the quotes, escapes still in.</param>
    /// <returns>The string; never throws for any bytes.</returns>
    public static string Unescape(ReadOnlySpan<byte> raw)
    {
        var backslash = raw.IndexOf((byte)'\\');
        if (backslash < 0)
        {
            return Encoding.UTF8.GetString(raw);
        }

        // Every escape is at least two bytes for one UTF-16 unit, and UTF-8 never has fewer bytes than UTF-16 units.
        char[]? rented = null;
        var buffer = raw.Length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(raw.Length));
        try
        {
            var length = 0;
            var i = 0;
            while (i < raw.Length)
            {
                var next = raw[i..].IndexOf((byte)'\\');
                var run = next < 0 ? raw[i..] : raw.Slice(i, next);

                // A run ends at a backslash (ASCII), so it never cuts a multi-byte character.
                length += Encoding.UTF8.GetChars(run, buffer[length..]);
                i += run.Length;
                if (next < 0)
                {
                    break;
                }

                if (i + 1 >= raw.Length)
                {
                    buffer[length++] = '\\';
                    break;
                }

                var escaped = raw[i + 1];
                if (escaped == 'u' && i + 6 <= raw.Length && TryParseHex(raw.Slice(i + 2, 4), out var unit))
                {
                    buffer[length++] = (char)unit;
                    i += 6;
                    continue;
                }

                buffer[length++] = escaped switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    _ => (char)escaped, // '"', '\\', '/': the reader refuses any other escape
                };
                i += 2;
            }

            return new string(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The first <see cref="MaxQuoteBytes"/> bytes of <paramref name="utf8"/> (valid UTF-8) as text, cut on a
    /// character boundary, with <c>…</c> and, when <paramref name="withLength"/>, the whole length when it was cut.</summary>
    public static string Quote(ReadOnlySpan<byte> utf8, bool withLength = false)
    {
        if (utf8.Length <= MaxQuoteBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var cut = MaxQuoteBytes;
        while (cut > 0 && (utf8[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        var text = Encoding.UTF8.GetString(utf8[..cut]) + "…";
        return withLength ? $"{text} ({Encoding.UTF8.GetCharCount(utf8)} characters)" : text;
    }

    /// <summary>The index of the first UTF-16 surrogate in <paramref name="text"/> without its other half, or -1.</summary>
    public static int IndexOfLoneSurrogate(ReadOnlySpan<char> text)
    {
        var i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return -1;
        }

        for (; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value * 16) + digit;
        }

        return true;
    }
}
