namespace AmbientMqtt.Storage;

/// <summary>
/// Rounds to two decimals exactly as Python's <c>round(x, 2)</c> does (the tutorial's subscriber), so the same payload
/// gives the same stored value in both.
/// </summary>
/// <remarks>
/// Python rounds the exact binary value half to even. <c>Math.Round(x, 2)</c> scales by 100 first, which can move a
/// value that lies just below a tie onto it. Away from a tie the scaled result is safe; near one, the exact decision is
/// made on the integer mantissa.
/// </remarks>
internal static class PythonRound
{
    public static double Round2(double x)
    {
        if (!double.IsFinite(x))
        {
            return x;
        }

        if (Math.Abs(x) >= 1e7)
        {
            return ExactRound2(x);
        }

        var scaled = x * 100;
        var floor = Math.Floor(scaled);
        var fraction = scaled - floor;
        if (Math.Abs(fraction - 0.5) > 1e-6)
        {
            return (fraction < 0.5 ? floor : floor + 1) / 100;
        }

        return ExactRound2(x);
    }

    private static double ExactRound2(double x)
    {
        // x = m · 2^e exactly; decide floor/half/ceiling of x · 100 with integers.
        var negative = x < 0;
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(x));
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1L << 52;
        }

        var e = exponent - 1075;
        if (e >= 0)
        {
            return x;
        }

        var shift = -e;
        if (shift > 120)
        {
            return negative ? -0.0 : 0.0;
        }

        var numerator = (UInt128)(ulong)mantissa * 100;
        var whole = numerator >> shift;
        var remainder = numerator - (whole << shift);
        var half = (UInt128)1 << (shift - 1);
        if (remainder > half || (remainder == half && (whole & 1) == 1))
        {
            whole++;
        }

        var result = (double)whole / 100;
        return negative ? -result : result;
    }
}
