using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Logging;

/// <summary>Publishing loop and hosting log lines, event ids 5000–5999.</summary>
internal static partial class Log
{
    [LoggerMessage(5000, LogLevel.Error, "Reading the sensor failed: {Reason}; trying again at the next interval")]
    public static partial void SensorReadFailed(ILogger logger, string reason);

    [LoggerMessage(5010, LogLevel.Warning, "{Pending} message(s) could not be delivered to MQTT broker {Endpoint} before the program stopped")]
    public static partial void PublisherNotFlushed(ILogger logger, long pending, string endpoint);

    [LoggerMessage(5011, LogLevel.Information, "{Pending} message(s) not yet delivered to MQTT broker {Endpoint} stay in the spool {Path}; they are sent, oldest first, after the next start")]
    public static partial void PublisherSpooled(ILogger logger, long pending, string endpoint, string path);

    [LoggerMessage(5020, LogLevel.Critical, "Stopping: {Reason}")]
    public static partial void IngestStopped(ILogger logger, string reason);

    [LoggerMessage(5021, LogLevel.Critical, "Stopping: the ingest failed unexpectedly")]
    public static partial void IngestFailed(ILogger logger, Exception exception);

    [LoggerMessage(5030, LogLevel.Critical, "Stopping: the publishing loop failed unexpectedly")]
    public static partial void PublishingFailed(ILogger logger, Exception exception);
}
