namespace AmbientMqtt;

/// <summary>
/// Reads what an <see cref="IAmbientRepository"/> stored: the nodes with their latest reading, a range of readings
/// summarised in buckets (count, minimum, mean and maximum of each quantity), and the raw rows of a range, streamed.
/// Needs only <c>SELECT</c> on the table and its 5-minute summary table <c>&lt;Table&gt;_5m</c>.
/// </summary>
/// <remarks>
/// Ranges are half-open, <c>[from, to)</c>, on the instant (the <c>timestamp_utc</c> column), so a local hour that a
/// daylight-saving change repeats is two hours here, and every timestamp comes back with the offset of the configured
/// zone at that instant.
/// </remarks>
public interface IAmbientReader
{
    /// <summary>Gets the IANA id of the zone the timestamps are given in (the repository's <c>Database:TimeZone</c>).</summary>
    string TimeZone { get; }

    /// <summary>Gets every node (identifier) that has a row, with its latest reading, ordered by identifier.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The nodes; empty when the table has no row.</returns>
    /// <exception cref="AmbientStorageException">The database could not be reached, or the table is missing or of an
    /// earlier schema; the message says which and what to do.</exception>
    Task<IReadOnlyList<AmbientNode>> GetNodesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Summarises the rows of <c>[rangeStart, rangeEnd)</c> in buckets of one width, per node: at most <paramref name="points"/>
    /// buckets per node, the width being the smallest of 1, 2, 5, 10, 15 and 30 seconds, 1, 5, 10, 15 and 30 minutes,
    /// 1, 2, 3, 6 and 12 hours, 1 and 2 days, or a whole number of weeks, that keeps within that count.
    /// </summary>
    /// <remarks>
    /// <para>Buckets are fixed spans of time aligned to the zone's wall clock as it stands at <paramref name="rangeStart"/>
    /// (an hour bucket starts on the hour, a day bucket at midnight; after a daylight-saving change inside the range,
    /// buckets longer than the change keep their length and so start an hour off the wall clock). The first and the
    /// last bucket may cover only part of their span: only rows inside the range count.</para>
    /// <para>Widths of 5 minutes and more are computed from the 5-minute summaries (and the raw rows of the partial
    /// 5 minutes at either end), exactly as from the rows themselves; shorter widths from the rows.</para>
    /// </remarks>
    /// <param name="rangeStart">The first instant of the range (any offset).</param>
    /// <param name="rangeEnd">The instant after the range; later than <paramref name="rangeStart"/>.</param>
    /// <param name="points">The most buckets per node, from 1 to <see cref="ReadingBuckets.MaxPoints"/>.</param>
    /// <param name="node">One node's identifier, or <see langword="null"/> for every node.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The buckets that hold at least one row, ordered by identifier, then time.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rangeEnd"/> is not after <paramref name="rangeStart"/>, or
    /// <paramref name="points"/> is out of range.</exception>
    /// <exception cref="AmbientStorageException">The database could not be reached, or the table is missing or of an
    /// earlier schema.</exception>
    Task<ReadingBuckets> GetBucketsAsync(
        DateTimeOffset rangeStart,
        DateTimeOffset rangeEnd,
        int points,
        string? node = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams the rows of <c>[rangeStart, rangeEnd)</c>, ordered by time (then by identifier), one at a time: however long the
    /// range, only a few rows are held in memory.
    /// </summary>
    /// <param name="rangeStart">The first instant of the range (any offset).</param>
    /// <param name="rangeEnd">The instant after the range; later than <paramref name="rangeStart"/>.</param>
    /// <param name="node">One node's identifier, or <see langword="null"/> for every node.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The rows, each with its timestamp in the configured zone.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rangeEnd"/> is not after <paramref name="rangeStart"/>.</exception>
    /// <exception cref="AmbientStorageException">The database could not be reached, or the table is missing or of an
    /// earlier schema.</exception>
    IAsyncEnumerable<StoredReading> ReadRowsAsync(
        DateTimeOffset rangeStart,
        DateTimeOffset rangeEnd,
        string? node = null,
        CancellationToken cancellationToken = default);
}
