using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Logging;

internal static partial class Log
{
    [LoggerMessage(4000, LogLevel.Warning, "Rejected a payload on '{Topic}': {Reason}")]
    public static partial void PayloadRejected(ILogger logger, string topic, string reason);

    [LoggerMessage(4001, LogLevel.Warning, "The database is unavailable: {Cause}; nothing is acknowledged until it is back, retrying")]
    public static partial void StorageUnavailable(ILogger logger, string cause);

    [LoggerMessage(4002, LogLevel.Information, "The database is back: storing readings again after {Failures} failed attempt(s) over {Seconds:0.0} s (from the start of the first attempt that failed)")]
    public static partial void StorageRecovered(ILogger logger, int failures, double seconds);

    [LoggerMessage(4003, LogLevel.Warning, "Stopped with {Count} message(s) in hand not stored (database unreachable); they are not acknowledged, and the broker delivers them again at the next start")]
    public static partial void ShutdownWithUnstored(ILogger logger, int count);

    [LoggerMessage(4004, LogLevel.Warning, "The database has not answered for {Seconds:0.#} s: it may be hung or overloaded; still waiting (nothing is acknowledged meanwhile)")]
    public static partial void StorageSlow(ILogger logger, double seconds);

    [LoggerMessage(4005, LogLevel.Warning, "{Count} reading(s) missing from {Identifier} between seq {After} and {Before}: numbered by the publisher, never received (lost before or by the broker)")]
    public static partial void ReadingsMissing(ILogger logger, long count, string identifier, long after, long before);

    [LoggerMessage(4006, LogLevel.Information, "{Identifier} numbers its readings from {Sequence} again (its publisher lost its state, or is a new one under the same identifier); gap detection follows the new numbering")]
    public static partial void Renumbered(ILogger logger, string identifier, long sequence);

    [LoggerMessage(4007, LogLevel.Warning, "Readings on '{Topic}' name the node '{Claimed}' in their payload, but the topic names '{Node}': stored as '{Node}' (the topic names the node); said once per topic and payload identifier")]
    public static partial void IdentifierConflict(ILogger logger, string topic, string node, string claimed);
}
