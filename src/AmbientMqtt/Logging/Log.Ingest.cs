using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Logging;

internal static partial class Log
{
    [LoggerMessage(4000, LogLevel.Warning, "Rejected a payload on '{Topic}': {Reason}")]
    public static partial void PayloadRejected(ILogger logger, string topic, string reason);

    [LoggerMessage(4001, LogLevel.Warning, "The database is unavailable: {Cause}; nothing is acknowledged until it is back, retrying")]
    public static partial void StorageUnavailable(ILogger logger, string cause);

    [LoggerMessage(4002, LogLevel.Information, "The database is back: storing readings again after {Failures} failed attempt(s) over {Outage}")]
    public static partial void StorageRecovered(ILogger logger, int failures, TimeSpan outage);

    [LoggerMessage(4003, LogLevel.Warning, "Stopped with {Count} reading(s) not stored (database unreachable); the broker keeps them for the next start")]
    public static partial void ShutdownWithUnstored(ILogger logger, int count);
}
