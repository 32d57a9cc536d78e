using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Dashboard.Logging;

/// <summary>The dashboard's log lines, event ids 9050–9099 (the read side's range is 9000–9099; the library's
/// <c>Log.Read.cs</c> has 9000–9049).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 9050, Level = LogLevel.Information, Message = "Dashboard listening on {Urls}")]
    public static partial void Listening(ILogger logger, string urls);

    [LoggerMessage(EventId = 9051, Level = LogLevel.Information, Message = "Port {Port} on {Host} is in use; the dashboard takes a free one (set Dashboard:Urls to choose)")]
    public static partial void PortTaken(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 9052, Level = LogLevel.Warning, Message = "Dashboard request {Path} failed: {Reason}")]
    public static partial void StorageFailed(ILogger logger, PathString path, string reason);

    [LoggerMessage(EventId = 9053, Level = LogLevel.Error, Message = "Dashboard request {Path} failed unexpectedly")]
    public static partial void RequestFailed(ILogger logger, Exception exception, PathString path);

    [LoggerMessage(EventId = 9054, Level = LogLevel.Warning, Message = "CSV export {Path} stopped after {Rows} row(s): {Reason}")]
    public static partial void CsvStopped(ILogger logger, PathString path, long rows, string reason);

    [LoggerMessage(EventId = 9055, Level = LogLevel.Warning, Message = "Looking for new rows for the live page failed: {Reason}")]
    public static partial void PollFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 9056, Level = LogLevel.Debug, Message = "CSV export {Path}: {Rows} row(s) in {ElapsedMilliseconds:0} ms")]
    public static partial void CsvWritten(ILogger logger, PathString path, long rows, double elapsedMilliseconds);

    [LoggerMessage(EventId = 9057, Level = LogLevel.Critical, Message = "{Reason}")]
    public static partial void CannotListen(ILogger logger, string reason);
}
