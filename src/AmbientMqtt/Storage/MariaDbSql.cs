using System.Globalization;
using System.Text;

namespace AmbientMqtt.Storage;

/// <summary>
/// The SQL text of <see cref="MariaDbAmbientRepository"/>. Table names arrive validated (a plain identifier) and are
/// always backtick-quoted; every value is a positional parameter (<c>?</c>), so the text depends only on the table, the
/// layout and the number of rows, and is cached by those.
/// </summary>
internal sealed class MariaDbSql
{
    /// <summary>Rows per INSERT statement: a few hundred keep a statement far below 1 MiB (the smallest
    /// <c>max_allowed_packet</c> still met in the wild) while the per-statement overhead stays negligible.</summary>
    public const int MaxRowsPerStatement = 500;

    /// <summary>Dead-letter payload bytes per statement, for the same reason.</summary>
    public const int MaxDeadLetterBytesPerStatement = 512 * 1024;

    /// <summary>Set once per connection: a value the column cannot hold is an error (which moves the reading to the
    /// dead-letter table) rather than a silent truncation, whatever the server's default; UTC for the session, so the
    /// summary rebuild's <c>UNIX_TIMESTAMP</c> reads <c>timestamp_utc</c> as what it is; and autocommit, whatever a
    /// server's <c>init_connect</c> says, so that only explicit transactions span statements.</summary>
    public const string SessionSetup =
        "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
        + "time_zone = '+00:00', autocommit = 1;";

    /// <summary>What the schema check reads: the current database, the columns of the three tables, and the unique
    /// indexes of the main one other than its primary key. Names are compared on this side too, since
    /// information_schema compares them without regard to case.</summary>
    public const string Inspect =
        "SELECT DATABASE(), VERSION();\n"
        + "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (@table, @rejected, @summary);\n"
        + "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX;\n";

    private readonly string _table;
    private readonly string _rejected;
    private readonly string _summary;
    private volatile CachedText? _lastBatch;

    /// <summary>Initializes the texts for a validated table name.</summary>
    public MariaDbSql(string table)
    {
        _table = Quote(table);
        _rejected = Quote(table + TableSchema.RejectedSuffix);
        _summary = Quote(table + TableSchema.SummarySuffix);
    }

    /// <summary>The collation identifiers compare with: exactly, as in SQLite, so that <c>Node-7</c> and <c>node-7</c>,
    /// <c>café</c> and <c>cafe</c>, or <c>node</c> and <c>node </c> are two nodes, never one reading taken for another's
    /// duplicate. MariaDB's <c>utf8mb4_bin</c> still ignores trailing spaces; its NO PAD collation does not (MySQL 8:
    /// <c>utf8mb4_0900_bin</c>).</summary>
    public string Collation { get; set; } = "utf8mb4_nopad_bin";

    /// <summary>The main table: the tutorial's columns, then the instant in UTC that carries the key.</summary>
    public string CreateTable =>
        $"""
        CREATE TABLE IF NOT EXISTS {_table} (
          row_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          timestamp     DATETIME(6) NOT NULL,
          identifier    VARCHAR(64) CHARACTER SET utf8mb4 COLLATE {Collation} NOT NULL,
          temperature   DOUBLE, humidity DOUBLE, pressure DOUBLE,
          timestamp_utc DATETIME(6) NOT NULL,
          UNIQUE KEY ux_identifier_timestamp_utc (identifier, timestamp_utc),
          KEY ix_timestamp_utc (timestamp_utc)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        """;

    /// <summary>The dead-letter table: what could not become a row, a bounded prefix of it, and why.</summary>
    public string CreateRejectedTable =>
        $"""
        CREATE TABLE IF NOT EXISTS {_rejected} (
          row_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          received_at   DATETIME(6) NOT NULL,
          topic         VARCHAR(255) NOT NULL,
          payload       MEDIUMBLOB NOT NULL,
          payload_bytes INT NOT NULL,
          reason        VARCHAR(1024) NOT NULL,
          KEY ix_received_at (received_at)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        """;

    /// <summary>The 5-minute summaries of the rows, per node (see <see cref="SummaryRow"/>).</summary>
    public string CreateSummaryTable =>
        $"""
        CREATE TABLE IF NOT EXISTS {_summary} (
          identifier      VARCHAR(64) CHARACTER SET utf8mb4 COLLATE {Collation} NOT NULL,
          bucket_utc      DATETIME NOT NULL,
          readings        INT UNSIGNED NOT NULL,
          temperature_sum DOUBLE NOT NULL, temperature_min DOUBLE NOT NULL, temperature_max DOUBLE NOT NULL,
          humidity_sum    DOUBLE NOT NULL, humidity_min    DOUBLE NOT NULL, humidity_max    DOUBLE NOT NULL,
          pressure_sum    DOUBLE NOT NULL, pressure_min    DOUBLE NOT NULL, pressure_max    DOUBLE NOT NULL,
          PRIMARY KEY (identifier, bucket_utc),
          KEY ix_bucket_utc (bucket_utc)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        """;

    /// <summary>Builds the summaries anew from the rows, in one transaction (rows with a missing value are left out,
    /// as the repository never writes one).</summary>
    public string RebuildSummaries =>
        $"""
        START TRANSACTION;
        DELETE FROM {_summary};
        INSERT INTO {_summary} (identifier, bucket_utc, readings, temperature_sum, temperature_min, temperature_max, humidity_sum, humidity_min, humidity_max, pressure_sum, pressure_min, pressure_max)
          SELECT identifier, FROM_UNIXTIME(UNIX_TIMESTAMP(timestamp_utc) DIV {SummaryRow.BucketSeconds} * {SummaryRow.BucketSeconds}) AS bucket, COUNT(*),
                 SUM(temperature), MIN(temperature), MAX(temperature), SUM(humidity), MIN(humidity), MAX(humidity), SUM(pressure), MIN(pressure), MAX(pressure)
          FROM {_table}
          WHERE temperature IS NOT NULL AND humidity IS NOT NULL AND pressure IS NOT NULL
          GROUP BY identifier, bucket;
        COMMIT;
        """;

    /// <summary>How to drop an index of the main table, for messages.</summary>
    public string DropIndex(string index) => $"ALTER TABLE {_table} DROP INDEX {Quote(index)}";

    /// <summary>
    /// A whole batch in one round trip, as one transaction: the rows (every one assumed new), the summaries of those rows,
    /// the dead letters, and the commit. When a row is already stored or refused, the server stops at that statement with
    /// an error and nothing of the batch stays once the caller rolls back; the caller then takes the careful path.
    /// Parameters, in order: six per row (timestamp, identifier, the three values, timestamp_utc; five without <c>timestamp_utc</c>), twelve per
    /// summary, five per dead letter.
    /// </summary>
    public string Batch(int rows, bool withUtc, int summaries, int deadLetters)
    {
        var key = (rows, withUtc, summaries, deadLetters);
        if (_lastBatch is { } cached && cached.Key == key)
        {
            return cached.Text;
        }

        var text = new StringBuilder(64 + (rows * 16) + (summaries * 300) + (deadLetters * 16));
        text.Append("START TRANSACTION;\n");
        for (var start = 0; start < rows; start += MaxRowsPerStatement)
        {
            AppendInsertRows(text, Math.Min(MaxRowsPerStatement, rows - start), withUtc);
        }

        if (summaries > 0)
        {
            AppendUpsertSummaries(text, summaries);
        }

        if (deadLetters > 0)
        {
            AppendInsertDeadLetters(text, deadLetters);
        }

        text.Append("COMMIT;");
        var result = text.ToString();
        _lastBatch = new CachedText(key, result);
        return result;
    }

    /// <summary>One row: the careful path's statement, whose outcome is that row's alone.</summary>
    public string InsertRow(bool withUtc)
    {
        var text = new StringBuilder(160);
        AppendInsertRows(text, 1, withUtc);
        return text.ToString();
    }

    /// <summary>Adds the newly inserted rows of a batch to their summaries.</summary>
    public string UpsertSummaries(int summaries)
    {
        var text = new StringBuilder(300 * summaries);
        AppendUpsertSummaries(text, summaries);
        return text.ToString();
    }

    /// <summary>Inserts dead-letter rows.</summary>
    public string InsertDeadLetters(int deadLetters)
    {
        var text = new StringBuilder(120 + (deadLetters * 14));
        AppendInsertDeadLetters(text, deadLetters);
        return text.ToString();
    }

    private static string Quote(string name) => "`" + name + "`";

    private void AppendInsertRows(StringBuilder text, int rows, bool withUtc)
    {
        text.Append("INSERT INTO ").Append(_table)
            .Append(withUtc ? " (timestamp, identifier, temperature, humidity, pressure, timestamp_utc) VALUES " : " (timestamp, identifier, temperature, humidity, pressure) VALUES ");
        var tuple = withUtc ? "(?,?,?,?,?,?)" : "(?,?,?,?,?)";
        for (var row = 0; row < rows; row++)
        {
            if (row > 0)
            {
                text.Append(',');
            }

            text.Append(tuple);
        }

        text.Append(";\n");
    }

    private void AppendUpsertSummaries(StringBuilder text, int summaries)
    {
        text.Append("INSERT INTO ").Append(_summary)
            .Append(" (identifier, bucket_utc, readings, temperature_sum, temperature_min, temperature_max, humidity_sum, humidity_min, humidity_max, pressure_sum, pressure_min, pressure_max) VALUES ");
        for (var i = 0; i < summaries; i++)
        {
            text.Append(i == 0 ? "(?,?,?,?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?,?,?,?)");
        }

        // Each column is assigned once and refers only to itself, so MariaDB's left-to-right evaluation does not matter.
        text.Append(" ON DUPLICATE KEY UPDATE readings = readings + VALUES(readings)");
        foreach (var quantity in (ReadOnlySpan<string>)["temperature", "humidity", "pressure"])
        {
            text.Append(CultureInfo.InvariantCulture, $", {quantity}_sum = {quantity}_sum + VALUES({quantity}_sum)")
                .Append(CultureInfo.InvariantCulture, $", {quantity}_min = LEAST({quantity}_min, VALUES({quantity}_min))")
                .Append(CultureInfo.InvariantCulture, $", {quantity}_max = GREATEST({quantity}_max, VALUES({quantity}_max))");
        }

        text.Append(";\n");
    }

    private void AppendInsertDeadLetters(StringBuilder text, int deadLetters)
    {
        text.Append("INSERT INTO ").Append(_rejected).Append(" (received_at, topic, payload, payload_bytes, reason) VALUES ");
        for (var i = 0; i < deadLetters; i++)
        {
            text.Append(i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)");
        }

        text.Append(";\n");
    }

    private sealed record CachedText((int Rows, bool WithUtc, int Summaries, int DeadLetters) Key, string Text);
}
