using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Logging;

/// <summary>Storage log lines, event ids 3000–3999: MariaDB from 3000, SQLite from 3010. Servers are named as
/// <c>host:port/database</c>, never by their connection string; SQLite databases by their file.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "Table `{Table}` is ready on MariaDB at {Endpoint} (created: {Created})")]
    public static partial void SchemaReady(ILogger logger, string table, string endpoint, string created);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Table `{Table}` has no unique key on (identifier, timestamp_utc), so duplicates are possible: a redelivered reading is stored again. Add it with: ALTER TABLE `{Table}` ADD UNIQUE KEY ux_identifier_timestamp_utc (identifier, timestamp_utc)")]
    public static partial void MissingUniqueKey(ILogger logger, string table);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Table {Table} was made by an earlier AmbientMqtt: its unique key is on the local time (Database:TimeZone {Zone}), not the instant; {Collisions}. Upgrade it once (it keeps every row): run the program with --Database:Upgrade=true, or call UpgradeTableAsync()")]
    public static partial void KeyOnLocalTime(ILogger logger, string table, string zone, string collisions);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information,
        Message = "MariaDB at {Endpoint} reported a conflict with another writer (a Galera certification conflict or a deadlock); retrying the batch (attempt {Attempt})")]
    public static partial void WriteConflict(ILogger logger, string endpoint, int attempt);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug,
        Message = "Batch committed to `{Table}`: {Inserted} inserted, {Duplicates} duplicates, {Rejected} rejected in {ElapsedMilliseconds:0.0} ms")]
    public static partial void BatchCommitted(ILogger logger, string table, int inserted, int duplicates, int rejected, double elapsedMilliseconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Reading of {Identifier} at {Timestamp} was refused and goes to the dead-letter table: {Reason}")]
    public static partial void ReadingRefused(ILogger logger, string identifier, string timestamp, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning,
        Message = "Connection to MariaDB at {Endpoint} failed during a batch ({Reason}); retrying once on a fresh connection")]
    public static partial void RetryingOnFreshConnection(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information,
        Message = "Table {Table} is ready in SQLite database {Path} (created: {Created})")]
    public static partial void SqliteSchemaReady(ILogger logger, string table, string path, string created);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning,
        Message = "Table {Table} has no unique index on (identifier, timestamp_utc), so duplicates are possible: a redelivered reading is stored again. Add it with: CREATE UNIQUE INDEX \"ux_{Table}_identifier_timestamp_utc\" ON \"{Table}\" (identifier, timestamp_utc)")]
    public static partial void SqliteMissingUniqueKey(ILogger logger, string table);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Debug,
        Message = "SQLite database {Path} could not take a batch: {Reason}")]
    public static partial void SqliteWriteFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Warning,
        Message = "SQLite database {Path} stays in journal mode '{Mode}' instead of WAL (a network or read-only file system?); a reader then holds writers back")]
    public static partial void SqliteNotWal(ILogger logger, string path, string mode);
}
