using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>
/// How one bucket request is answered: the width, the alignment, and which parts of <c>[from, to)</c> come from the
/// 5-minute summaries and which from the rows. Both readers share it, so MariaDB and SQLite bucket alike.
/// </summary>
/// <remarks>
/// A row at unix second <c>s</c> falls into bucket <c>floor((s + Offset - WeekOrigin) / Width)</c>: fixed spans of time,
/// aligned to the zone's wall clock as it stands at <c>from</c> (and week buckets to Mondays). The databases compute the
/// key from whole seconds, which gives the same bucket as the exact instant since offset and width are whole seconds.
/// </remarks>
internal sealed class BucketPlan
{
    /// <summary>The span of one summary row.</summary>
    public const long SummarySeconds = 300;

    /// <summary>1970-01-05, a Monday, so that week buckets start on Mondays; every shorter width divides a day, so this
    /// origin changes nothing for them.</summary>
    private const long WeekOrigin = 4 * 86_400;

    private const long Week = 7 * 86_400;

    private static readonly long[] Widths =
    [
        1, 2, 5, 10, 15, 30,
        60, 300, 600, 900, 1800,
        3600, 7200, 10_800, 21_600, 43_200,
        86_400, 172_800, Week,
    ];

    private BucketPlan(Instant from, Instant to, long width, long offset, Instant? summaryFrom, Instant? summaryTo)
    {
        From = from;
        To = to;
        WidthSeconds = width;
        OffsetSeconds = offset;
        SummaryFrom = summaryFrom;
        SummaryTo = summaryTo;
    }

    /// <summary>Gets the first instant of the range.</summary>
    public Instant From { get; }

    /// <summary>Gets the instant after the range.</summary>
    public Instant To { get; }

    /// <summary>Gets the width of a bucket in seconds.</summary>
    public long WidthSeconds { get; }

    /// <summary>Gets the zone's offset at <see cref="From"/> in seconds, to which buckets are aligned.</summary>
    public long OffsetSeconds { get; }

    /// <summary>Gets the start of the part answered from the summaries (a multiple of 5 minutes), or
    /// <see langword="null"/> when the rows answer everything.</summary>
    public Instant? SummaryFrom { get; }

    /// <summary>Gets the end of the part answered from the summaries.</summary>
    public Instant? SummaryTo { get; }

    /// <summary>Gets a value indicating whether the summaries answer part of the range.</summary>
    public bool UsesSummaries => SummaryFrom is not null;

    /// <summary>Gets the parts of the range the rows answer: all of it, or what lies outside the summaries' part.</summary>
    public IEnumerable<(Instant From, Instant To)> RowRanges
    {
        get
        {
            if (SummaryFrom is not { } summaryFrom || SummaryTo is not { } summaryTo)
            {
                yield return (From, To);
                yield break;
            }

            if (From < summaryFrom)
            {
                yield return (From, summaryFrom);
            }

            if (summaryTo < To)
            {
                yield return (summaryTo, To);
            }
        }
    }

    /// <summary>Plans a request.</summary>
    /// <param name="from">The first instant.</param>
    /// <param name="to">The instant after the range; later than <paramref name="from"/>.</param>
    /// <param name="points">The most buckets per node, 1 to <see cref="ReadingBuckets.MaxPoints"/>.</param>
    /// <param name="zone">The zone buckets are aligned to.</param>
    /// <param name="summariesAvailable">Whether the summary table exists.</param>
    /// <returns>The plan.</returns>
    public static BucketPlan Create(Instant from, Instant to, int points, DateTimeZone zone, bool summariesAvailable)
    {
        var offset = zone.GetUtcOffset(from).Seconds;
        var fromSeconds = FloorSeconds(from);
        var lastSeconds = FloorSeconds(to - Duration.Epsilon);
        var span = lastSeconds - fromSeconds + 1;

        var width = Widths.FirstOrDefault(w => Count(w) <= points);
        if (width == 0)
        {
            // Whole weeks: from the ideal width up, the first that fits (at most two steps, alignment adding at most one bucket).
            width = Math.Max(2, (span / points / Week) + 1) * Week;
            while (Count(width) > points)
            {
                width += Week;
            }
        }

        Instant? summaryFrom = null;
        Instant? summaryTo = null;
        if (summariesAvailable && width % SummarySeconds == 0 && offset % SummarySeconds == 0)
        {
            var first = Instant.FromUnixTimeSeconds(CeilingTo(from, SummarySeconds));
            var last = Instant.FromUnixTimeSeconds(FloorDivide(FloorSeconds(to), SummarySeconds) * SummarySeconds);
            if (first < last)
            {
                summaryFrom = first;
                summaryTo = last;
            }
        }

        return new BucketPlan(from, to, width, offset, summaryFrom, summaryTo);

        long Count(long w) => Key(lastSeconds, w, offset) - Key(fromSeconds, w, offset) + 1;
    }

    /// <summary>The key of the bucket holding unix second <paramref name="seconds"/>.</summary>
    public long Key(long seconds) => Key(seconds, WidthSeconds, OffsetSeconds);

    /// <summary>The start of the bucket with <paramref name="key"/>.</summary>
    public Instant Start(long key) => Instant.FromUnixTimeSeconds((key * WidthSeconds) + WeekOrigin - OffsetSeconds);

    /// <summary>
    /// The constant <c>c</c> and the key shift <c>m</c> for a database that divides non-negative integers only: with
    /// <c>s</c> the seconds it counts from <paramref name="epochSeconds"/> before 1970 (0 for unix seconds, 62167219200
    /// for MariaDB's TO_SECONDS), <c>(s + c) DIV width - m</c> is the key, and <c>s + c</c> is never negative for a
    /// time from year 1 on.
    /// </summary>
    public (long Constant, long Shift) IntegerKey(long epochSeconds)
    {
        // Seconds from 0001-01-01 to 1970-01-01, plus the largest negative offset and the origin: s + c must stay >= 0.
        const long YearOneToEpoch = 62_135_596_800;
        var shift = ((YearOneToEpoch + WeekOrigin + 86_400) / WidthSeconds) + 1;
        return ((shift * WidthSeconds) + OffsetSeconds - WeekOrigin - epochSeconds, shift);
    }

    /// <summary>The unix second an instant falls in (rounded towards the past, also before 1970).</summary>
    public static long FloorSeconds(Instant instant) => FloorDivide(instant.ToUnixTimeTicks(), NodaConstants.TicksPerSecond);

    private static long Key(long seconds, long width, long offset) => FloorDivide(seconds + offset - WeekOrigin, width);

    private static long CeilingTo(Instant instant, long seconds)
    {
        var ticks = instant.ToUnixTimeTicks();
        var unit = seconds * NodaConstants.TicksPerSecond;
        var floor = FloorDivide(ticks, unit) * unit;
        return (floor == ticks ? floor : floor + unit) / NodaConstants.TicksPerSecond;
    }

    private static long FloorDivide(long value, long divisor)
    {
        var quotient = value / divisor;
        return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
    }
}
