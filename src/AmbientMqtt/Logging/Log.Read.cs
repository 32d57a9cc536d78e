using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Logging;

/// <summary>Read side log lines (<see cref="IAmbientReader"/> and the dashboard), event ids 9000–9099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 9000, Level = LogLevel.Warning,
        Message = "Summary table {SummaryTable} is missing, so charts of long ranges are computed from every row of {Table} (slower); the program that stores the readings creates it")]
    public static partial void SummaryTableMissing(ILogger logger, string table, string summaryTable);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Debug,
        Message = "Buckets of {Table} from {From} to {To}: width {WidthSeconds} s, {Buckets} bucket(s), summaries used: {FromSummaries}, in {ElapsedMilliseconds:0.0} ms")]
    public static partial void BucketsRead(ILogger logger, string table, DateTimeOffset from, DateTimeOffset to, long widthSeconds, int buckets, bool fromSummaries, double elapsedMilliseconds);
}
