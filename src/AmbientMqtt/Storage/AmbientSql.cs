using System.Globalization;
using System.Text;

namespace AmbientMqtt.Storage;

/// <summary>
/// The SQL text of <see cref="MariaDbAmbientRepository"/>. Table names arrive validated (a plain identifier) and are
/// always backtick-quoted; every value is a parameter (<c>@i0</c>, <c>@t0</c>, …) numbered by its row in the statement, so
/// the text depends only on the table and the row count.
/// </summary>
internal sealed class AmbientSql
{
    /// <summary>Rows per statement: a few hundred keep a statement well under 1 MiB (the smallest <c>max_allowed_packet</c>
    /// still met in the wild) while the per-statement overhead stays negligible.</summary>
    public const int MaxRowsPerStatement = 500;

    /// <summary>Payload bytes per dead-letter statement, for the same reason.</summary>
    public const int MaxDeadLetterBytesPerStatement = 512 * 1024;

    /// <summary>Every call sets the session's mode, so that a value the column cannot hold is an error (which moves the
    /// reading to the dead-letter table) rather than a silent truncation, whatever the server's default.</summary>
    public const string SetSqlMode =
        "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';\n";

    // Parameter names by row: "@i0", "@i1", … (built once, shared by every statement).
    private static readonly string[] IdentifierNames = Names("@i", MaxRowsPerStatement);
    private static readonly string[] TimestampNames = Names("@t", MaxRowsPerStatement);
    private static readonly string[] TemperatureNames = Names("@a", MaxRowsPerStatement);
    private static readonly string[] HumidityNames = Names("@h", MaxRowsPerStatement);
    private static readonly string[] PressureNames = Names("@p", MaxRowsPerStatement);
    private static readonly string[] ReceivedAtNames = Names("@r", MaxRowsPerStatement);
    private static readonly string[] TopicNames = Names("@o", MaxRowsPerStatement);
    private static readonly string[] PayloadNames = Names("@b", MaxRowsPerStatement);
    private static readonly string[] PayloadBytesNames = Names("@n", MaxRowsPerStatement);
    private static readonly string[] ReasonNames = Names("@w", MaxRowsPerStatement);

    private readonly string _table;
    private readonly string _rejectedTable;

    // The last texts built, by row count: a steady stream of full batches reuses them.
    private volatile CachedText? _lastInsert;
    private volatile CachedText? _lastPlain;
    private volatile CachedText? _lastWholeBatch;
    private volatile CachedText? _lastDeadLetter;

    /// <summary>Initializes the texts for a validated table name.</summary>
    /// <param name="quotedTable">The table, backtick-quoted.</param>
    /// <param name="quotedRejectedTable">The dead-letter table, backtick-quoted.</param>
    public AmbientSql(string quotedTable, string quotedRejectedTable)
    {
        _table = quotedTable;
        _rejectedTable = quotedRejectedTable;
    }

    public static string IdentifierName(int row) => IdentifierNames[row];

    public static string TimestampName(int row) => TimestampNames[row];

    public static string TemperatureName(int row) => TemperatureNames[row];

    public static string HumidityName(int row) => HumidityNames[row];

    public static string PressureName(int row) => PressureNames[row];

    public static string ReceivedAtName(int row) => ReceivedAtNames[row];

    public static string TopicName(int row) => TopicNames[row];

    public static string PayloadName(int row) => PayloadNames[row];

    public static string PayloadBytesName(int row) => PayloadBytesNames[row];

    public static string ReasonName(int row) => ReasonNames[row];

    /// <summary>
    /// What the schema check reads: the current database, the columns of both tables, and the unique keys of the main one.
    /// Table names are compared on this side too, since information_schema compares them without regard to case.
    /// </summary>
    public static string Inspect =>
        "SELECT DATABASE();\n"
        + "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (@table, @rejected);\n"
        + "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table AND NON_UNIQUE = 0;\n";

    /// <summary>The main table, exactly as DESIGN.md gives it.</summary>
    public string CreateTable =>
        $"""
        CREATE TABLE IF NOT EXISTS {_table} (
          row_id      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          timestamp   DATETIME(6) NOT NULL,
          identifier  VARCHAR(64) NOT NULL,
          temperature DOUBLE, humidity DOUBLE, pressure DOUBLE,
          UNIQUE KEY ux_identifier_timestamp (identifier, timestamp)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        """;

    /// <summary>The dead-letter table: what could not become a row, a bounded prefix of it, and why.</summary>
    public string CreateRejectedTable =>
        $"""
        CREATE TABLE IF NOT EXISTS {_rejectedTable} (
          row_id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
          received_at   DATETIME(6) NOT NULL,
          topic         VARCHAR(255) NOT NULL,
          payload       MEDIUMBLOB NOT NULL,
          payload_bytes INT NOT NULL,
          reason        VARCHAR(1024) NOT NULL,
          KEY ix_received_at (received_at)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

        """;

    /// <summary>
    /// Inserts <paramref name="rows"/> readings and tells, per row, whether it was new. Three statements, one round trip:
    /// the rows of the batch already there (the first read fixes the transaction's REPEATABLE READ snapshot), the insert
    /// (a duplicate key makes it a no-op, not an error), and the rows now visible. A row is ours exactly when it was
    /// absent before and visible after: a row another writer committed meanwhile stays outside our snapshot, and two rows
    /// of the batch that the key's collation deems equal share one <c>row_id</c>, which only the first one inserted. The
    /// join compares with the table's own collation, which a comparison on this side could not reproduce.
    /// </summary>
    public string InsertWithOutcomes(int rows)
    {
        var cached = _lastInsert;
        if (cached?.Rows == rows)
        {
            return cached.Text;
        }

        var keys = new StringBuilder(rows * 48);
        keys.Append("SELECT b.i, t.row_id FROM (");
        for (var row = 0; row < rows; row++)
        {
            if (row == 0)
            {
                keys.Append("SELECT 0 AS i, @i0 AS identifier, @t0 AS ts");
            }
            else
            {
                keys.Append(" UNION ALL SELECT ").Append(row.ToString(CultureInfo.InvariantCulture))
                    .Append(", ").Append(IdentifierNames[row]).Append(", ").Append(TimestampNames[row]);
            }
        }

        keys.Append(") AS b JOIN ").Append(_table).Append(" AS t ON t.identifier = b.identifier AND t.timestamp = b.ts;\n");
        var select = keys.ToString();

        var text = new StringBuilder(SetSqlMode.Length + (select.Length * 2) + (rows * 40) + 128);
        text.Append(SetSqlMode).Append(select);
        AppendInsert(text, rows);
        text.Append(" ON DUPLICATE KEY UPDATE row_id = row_id;\n").Append(select);

        var result = text.ToString();
        _lastInsert = new CachedText(rows, result);
        return result;
    }

    /// <summary>
    /// Inserts <paramref name="rows"/> readings, all or none: the fast path. When every reading is new (the steady state)
    /// it succeeds and every row is known to be inserted, with no rows sent back; when one is already stored the server
    /// refuses the statement with a duplicate-key error and rolls it back alone, and the caller falls back to
    /// <see cref="InsertWithOutcomes"/>, whose <c>ON DUPLICATE KEY UPDATE</c> makes the redelivery a no-op.
    /// </summary>
    public string InsertPlain(int rows)
    {
        var cached = _lastPlain;
        if (cached?.Rows == rows)
        {
            return cached.Text;
        }

        var text = new StringBuilder(SetSqlMode.Length + (rows * 40) + 128);
        text.Append(SetSqlMode);
        AppendInsert(text, rows);
        text.Append(";\n");
        var result = text.ToString();
        _lastPlain = new CachedText(rows, result);
        return result;
    }

    /// <summary>
    /// A whole batch in one statement and one round trip: a plain multi-row INSERT (positional parameters, five per row,
    /// in the order of <see cref="MariaDbAmbientRepository"/>'s row parameters), committed on its own by autocommit. One
    /// statement is atomic: when it fails (a reading already stored, a value refused) no row of it stays, and the caller
    /// takes the careful path. The connection's sql_mode is set once, when it is opened (<see cref="SetSqlMode"/>).
    /// </summary>
    public string InsertBatch(int rows)
    {
        var cached = _lastWholeBatch;
        if (cached?.Rows == rows)
        {
            return cached.Text;
        }

        // Positional parameters: the driver binds them by position, with no name lookup per value.
        var text = new StringBuilder((rows * 12) + 100);
        text.Append("INSERT INTO ").Append(_table).Append(" (timestamp, identifier, temperature, humidity, pressure) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            text.Append(row == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)");
        }

        var result = text.ToString();
        _lastWholeBatch = new CachedText(rows, result);
        return result;
    }

    /// <summary>Inserts <paramref name="rows"/> readings without asking which were new: for a table without the unique
    /// key, where every row is new.</summary>
    public string InsertOnly(int rows)
    {
        var text = new StringBuilder(SetSqlMode.Length + (rows * 40) + 128);
        text.Append(SetSqlMode);
        AppendInsert(text, rows);
        text.Append(" ON DUPLICATE KEY UPDATE row_id = row_id;\n");
        return text.ToString();
    }

    /// <summary>Inserts <paramref name="rows"/> dead-letter rows.</summary>
    public string InsertDeadLetters(int rows)
    {
        var cached = _lastDeadLetter;
        if (cached?.Rows == rows)
        {
            return cached.Text;
        }

        var text = new StringBuilder(SetSqlMode.Length + (rows * 32) + 128);
        text.Append(SetSqlMode).Append("INSERT INTO ").Append(_rejectedTable)
            .Append(" (received_at, topic, payload, payload_bytes, reason) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            text.Append(row == 0 ? "(" : ", (")
                .Append(ReceivedAtNames[row]).Append(", ")
                .Append(TopicNames[row]).Append(", ")
                .Append(PayloadNames[row]).Append(", ")
                .Append(PayloadBytesNames[row]).Append(", ")
                .Append(ReasonNames[row]).Append(')');
        }

        text.Append(";\n");
        var result = text.ToString();
        _lastDeadLetter = new CachedText(rows, result);
        return result;
    }

    private void AppendInsert(StringBuilder text, int rows)
    {
        text.Append("INSERT INTO ").Append(_table).Append(" (timestamp, identifier, temperature, humidity, pressure) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            text.Append(row == 0 ? "(" : ", (")
                .Append(TimestampNames[row]).Append(", ")
                .Append(IdentifierNames[row]).Append(", ")
                .Append(TemperatureNames[row]).Append(", ")
                .Append(HumidityNames[row]).Append(", ")
                .Append(PressureNames[row]).Append(')');
        }
    }

    private static string[] Names(string prefix, int count)
    {
        var names = new string[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = prefix + i.ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }

    private sealed record CachedText(int Rows, string Text);
}
