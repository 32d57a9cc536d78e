namespace AmbientMqtt;

/// <summary>The answer of <see cref="IAmbientReader.GetBucketsAsync"/>: a range summarised in buckets of one width.</summary>
public sealed class ReadingBuckets
{
    /// <summary>The most buckets per node one call may ask for.</summary>
    public const int MaxPoints = 10_000;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="from">The first instant of the range.</param>
    /// <param name="to">The instant after the range.</param>
    /// <param name="width">The span of each bucket.</param>
    /// <param name="fromSummaries">Whether the 5-minute summary table was used.</param>
    /// <param name="buckets">The buckets, ordered by identifier, then time.</param>
    public ReadingBuckets(DateTimeOffset from, DateTimeOffset to, TimeSpan width, bool fromSummaries, IReadOnlyList<ReadingBucket> buckets)
    {
        From = from;
        To = to;
        Width = width;
        FromSummaries = fromSummaries;
        Buckets = buckets;
    }

    /// <summary>Gets the first instant of the range, with the zone's offset.</summary>
    public DateTimeOffset From { get; }

    /// <summary>Gets the instant after the range, with the zone's offset.</summary>
    public DateTimeOffset To { get; }

    /// <summary>Gets the span of each bucket.</summary>
    public TimeSpan Width { get; }

    /// <summary>Gets a value indicating whether the buckets were computed from the 5-minute summary table (widths of
    /// 5 minutes and more) rather than from the rows alone.</summary>
    public bool FromSummaries { get; }

    /// <summary>Gets the buckets that hold at least one row, ordered by identifier, then time.</summary>
    public IReadOnlyList<ReadingBucket> Buckets { get; }
}
