using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>The argument checks both readers share, with messages that name the argument.</summary>
internal static class ReadArguments
{
    // The years the table's columns hold (DATETIME and DateTime alike), with a day to spare for any zone's offset.
    private static readonly Instant Earliest = Instant.FromUtc(1, 1, 2, 0, 0);
    private static readonly Instant Latest = Instant.FromUtc(9999, 12, 30, 0, 0);

    /// <summary>Checks a range and returns it as instants.</summary>
    public static (Instant From, Instant To) Range(DateTimeOffset rangeStart, DateTimeOffset rangeEnd)
    {
        var start = Instant.FromDateTimeOffset(rangeStart);
        var end = Instant.FromDateTimeOffset(rangeEnd);
        if (start < Earliest || start > Latest)
        {
            throw new ArgumentOutOfRangeException(nameof(rangeStart), rangeStart, "must lie between the years 1 and 9999");
        }

        if (end < Earliest || end > Latest)
        {
            throw new ArgumentOutOfRangeException(nameof(rangeEnd), rangeEnd, "must lie between the years 1 and 9999");
        }

        if (end <= start)
        {
            throw new ArgumentOutOfRangeException(nameof(rangeEnd), rangeEnd, "must be later than rangeStart");
        }

        return (start, end);
    }

    /// <summary>Checks a bucket count.</summary>
    public static void Points(int points)
    {
        if (points is < 1 or > ReadingBuckets.MaxPoints)
        {
            throw new ArgumentOutOfRangeException(nameof(points), points, $"must lie between 1 and {ReadingBuckets.MaxPoints}");
        }
    }

    /// <summary>Checks a node filter.</summary>
    public static void Node(string? node)
    {
        if (node is { Length: 0 })
        {
            throw new ArgumentException("must not be empty; pass null for every node", nameof(node));
        }
    }
}
