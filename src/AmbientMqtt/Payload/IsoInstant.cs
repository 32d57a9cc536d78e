using System.Globalization;
using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// Reads an ISO 8601 date and time with a UTC offset straight from UTF-8 bytes.
/// </summary>
/// <remarks>
/// Accepted: <c>YYYY-MM-DD</c>, then <c>T</c> or a space (Python's <c>str(datetime)</c>), <c>hh:mm</c>, optional
/// <c>:ss</c> and 1 to 9 fractional digits (a dot or a comma), then <c>Z</c>, <c>±hh:mm</c>, <c>±hhmm</c> or
/// <c>±hh</c>. A time without an offset is refused: it would be read in whatever zone the receiver happens to be in.
/// So is an instant outside the years 1 to 9999 in UTC (<c>0001-01-01T00:00:00+14:00</c> is 0000-12-31T10:00:00Z), and
/// so is a year 0000. Never throws: every problem is a message quoting at most 64 bytes of the text.
/// </remarks>
internal static class IsoInstant
{
    private const long SecondsPerDay = 86_400;

    // 1970-01-01 and the day after 9999-12-31, in seconds from 0001-01-01T00:00:00Z.
    private const long UnixEpoch = 719_162 * SecondsPerDay;
    private const long EndOfYear9999 = 3_652_059 * SecondsPerDay;

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

        if (year < 1)
        {
            return Bad(s, "is outside the years 1 to 9999");
        }

        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return Bad(s, "is not a real date and time");
        }

        // In seconds from 0001-01-01T00:00:00Z: an offset can carry a date in year 1 or 9999 out of the years 1 to 9999
        // in UTC, which neither an Instant (at the top) nor a DateTime, nor Python's datetime, holds.
        var utcSeconds = ((long)new DateOnly(year, month, day).DayNumber * SecondsPerDay) + (hour * 3600) + (minute * 60) + second - offsetSeconds;
        if (utcSeconds < 0 || utcSeconds >= EndOfYear9999)
        {
            return Bad(s, $"is {DescribeUtc(utcSeconds, nanos)} in UTC, outside the years 1 to 9999");
        }

        instant = Instant.FromUnixTimeSeconds(utcSeconds - UnixEpoch).PlusNanoseconds(nanos);
        return null;
    }

    // Only offsets up to ±18:00 get here, so the instant is at most one day before year 1 or after year 9999.
    private static string DescribeUtc(long utcSeconds, long nanos)
    {
        var date = utcSeconds < 0 ? "0000-12-31" : "10000-01-01";
        var timeOfDay = utcSeconds < 0 ? utcSeconds + SecondsPerDay : utcSeconds - EndOfYear9999;
        var text = string.Create(CultureInfo.InvariantCulture, $"{date}T{timeOfDay / 3600:D2}:{timeOfDay / 60 % 60:D2}:{timeOfDay % 60:D2}");
        return nanos == 0 ? text : $"{text}.{nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0')}";
    }

    private static string Bad(ReadOnlySpan<byte> s, string problem) => $"'{JsonText.Quote(s)}' {problem}";

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
