using System.Text;
using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// Reads an ISO 8601 date and time with a UTC offset straight from UTF-8 bytes.
/// </summary>
/// <remarks>
/// Accepted: <c>YYYY-MM-DD</c>, then <c>T</c> or a space (Python's <c>str(datetime)</c>), <c>hh:mm</c>, optional
/// <c>:ss</c> and 1 to 9 fractional digits (a dot or a comma), then <c>Z</c>, <c>±hh:mm</c>, <c>±hhmm</c> or
/// <c>±hh</c>. A time without an offset is refused: it would be read in whatever zone the receiver happens to be in.
/// </remarks>
internal static class IsoInstant
{
    public static string? TryParse(ReadOnlySpan<byte> s, out Instant instant)
    {
        instant = default;
        var p = 0;
        if (!Digits(s, ref p, 4, out var year) || !Expect(s, ref p, '-') || !Digits(s, ref p, 2, out var month)
            || !Expect(s, ref p, '-') || !Digits(s, ref p, 2, out var day))
        {
            return Bad(s, "is not an ISO 8601 date and time (expected YYYY-MM-DDThh:mm:ss+hh:mm)");
        }

        if (p >= s.Length || (s[p] != 'T' && s[p] != 't' && s[p] != ' '))
        {
            return p >= s.Length
                ? Bad(s, "has a date but no time and no UTC offset")
                : Bad(s, "is not an ISO 8601 date and time (expected 'T' between date and time)");
        }

        p++;
        if (!Digits(s, ref p, 2, out var hour) || !Expect(s, ref p, ':') || !Digits(s, ref p, 2, out var minute))
        {
            return Bad(s, "is not an ISO 8601 date and time (expected hh:mm after the date)");
        }

        var second = 0;
        long nanos = 0;
        if (p < s.Length && s[p] == ':')
        {
            p++;
            if (!Digits(s, ref p, 2, out second))
            {
                return Bad(s, "has malformed seconds");
            }

            if (p < s.Length && (s[p] == '.' || s[p] == ','))
            {
                p++;
                var start = p;
                while (p < s.Length && IsDigit(s[p]))
                {
                    if (p - start < 9)
                    {
                        nanos = (nanos * 10) + (s[p] - '0');
                    }

                    p++;
                }

                var count = p - start;
                if (count == 0)
                {
                    return Bad(s, "has a decimal point but no fraction digits");
                }

                if (count > 9)
                {
                    return Bad(s, "has more than 9 fraction digits");
                }

                for (var i = count; i < 9; i++)
                {
                    nanos *= 10;
                }
            }
        }

        if (p >= s.Length)
        {
            return Bad(s, "has no UTC offset (add Z or +00:00; a local time cannot be placed on the time line)");
        }

        int offsetSeconds;
        if (s[p] == 'Z' || s[p] == 'z')
        {
            offsetSeconds = 0;
            p++;
        }
        else if (s[p] == '+' || s[p] == '-')
        {
            var sign = s[p] == '-' ? -1 : 1;
            p++;
            if (!Digits(s, ref p, 2, out var offHours))
            {
                return Bad(s, "has a malformed UTC offset");
            }

            var offMinutes = 0;
            if (p < s.Length && s[p] == ':')
            {
                p++;
                if (!Digits(s, ref p, 2, out offMinutes))
                {
                    return Bad(s, "has a malformed UTC offset");
                }
            }
            else if (p < s.Length && IsDigit(s[p]) && !Digits(s, ref p, 2, out offMinutes))
            {
                return Bad(s, "has a malformed UTC offset");
            }

            if (offHours > 18 || offMinutes > 59 || (offHours == 18 && offMinutes > 0))
            {
                return Bad(s, "has a UTC offset outside ±18:00");
            }

            offsetSeconds = sign * ((offHours * 3600) + (offMinutes * 60));
        }
        else
        {
            return Bad(s, "has an unexpected character where the UTC offset belongs");
        }

        if (p != s.Length)
        {
            return Bad(s, "has trailing characters after the UTC offset");
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > CalendarSystem.Iso.GetDaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return Bad(s, "is not a real date and time");
        }

        var local = new LocalDateTime(year, month, day, hour, minute, second).PlusNanoseconds(nanos);
        instant = local.WithOffset(Offset.FromSeconds(offsetSeconds)).ToInstant();
        return null;
    }

    private static string Bad(ReadOnlySpan<byte> s, string problem)
    {
        var text = s.Length > 64 ? Encoding.UTF8.GetString(s[..64]) + "…" : Encoding.UTF8.GetString(s);
        return $"'{text}' {problem}";
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool Expect(ReadOnlySpan<byte> s, ref int p, char c)
    {
        if (p < s.Length && s[p] == c)
        {
            p++;
            return true;
        }

        return false;
    }

    private static bool Digits(ReadOnlySpan<byte> s, ref int p, int count, out int value)
    {
        value = 0;
        if (p + count > s.Length)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            var b = s[p + i];
            if (!IsDigit(b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        p += count;
        return true;
    }
}
