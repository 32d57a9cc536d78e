using System.Diagnostics;
using System.Globalization;
using AmbientMqtt.Logging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AmbientMqtt.Storage;

/// <summary>
/// Stores readings in a SQLite database file, in tables of the same shape as the MariaDB ones: wall-clock time in the
/// configured zone as text (<c>yyyy-MM-dd HH:mm:ss.ffffff</c>, which sorts and reads like MariaDB's <c>DATETIME(6)</c>),
/// values rounded to two decimals, the instant in UTC (<c>timestamp_utc</c>) with the unique key on (identifier,
/// timestamp_utc) that makes a redelivered reading a no-op, the dead-letter table <c>&lt;Table&gt;_rejected</c>, and the
/// 5-minute summaries <c>&lt;Table&gt;_5m</c>. Nothing to install: the SQLite engine comes with the package.
/// </summary>
/// <remarks>
/// <para>One write path, synchronous (SQLite runs in this process; there is no round trip to save): a batch is one
/// <c>BEGIN IMMEDIATE</c> transaction, row by row through one prepared statement, so each row's outcome is exact, and
/// two programs on the same file take turns instead of failing; the file is in WAL mode, so a reader (<c>sqlite3</c>, a report) never holds the writer back, and commits
/// are synchronous (<c>synchronous=FULL</c>): a row is on disk before its message is acknowledged, even if the power
/// fails.</para>
/// <para>Identifiers are compared exactly (binary collation, as in MariaDB's table): <c>Node-7</c> and <c>node-7</c> are
/// two nodes. An identifier longer than 64 characters is refused by a check
/// constraint, as MariaDB's <c>VARCHAR(64)</c> refuses it, and goes to the dead-letter table.</para>
/// <para>Dispose the repository to close its pooled connections, which folds the write-ahead log into the file.</para>
/// </remarks>
public sealed class SqliteAmbientRepository : IAmbientRepository, IDisposable
{
    // SQLite result codes (https://www.sqlite.org/rescode.html).
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteTooBig = 18;
    private const int SqliteConstraint = 19;
    private const int SqliteMismatch = 20;
    private const int SqliteNotADatabase = 26;

    private const string LocalTimeFormat = "yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffff";
    private const string BucketFormat = "yyyy'-'MM'-'dd' 'HH':'mm':'ss";

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly string _table;
    private readonly string _zone;
    private readonly string _quotedTable;
    private readonly string _quotedRejected;
    private readonly string _quotedSummary;
    private readonly RowPreparation _rows;
    private readonly int _busyTimeoutMilliseconds;
    private readonly Lock _gate = new();
    private TableSchema? _schema;
    private int _journalChecked;
    private int _warned;
    private bool _disposed;

    /// <summary>Initializes a repository. Nothing is opened or created until the first call.</summary>
    /// <param name="options">The file, table, time zone, default identifier and dead-letter limit; read once, here.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">A setting is wrong; the message names its key (<c>Database:Table</c>, …).</exception>
    public SqliteAmbientRepository(SqliteRepositoryOptions options, ILogger<SqliteAmbientRepository>? logger = null)
    {
        OptionsCheck.ThrowIfInvalid(SqliteRepositoryOptionsValidator.Instance, options);

        DatabasePath = options.FullPath();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _table = options.Table;
        _zone = options.TimeZone;
        _quotedTable = Quote(_table);
        _quotedRejected = Quote(_table + TableSchema.RejectedSuffix);
        _quotedSummary = Quote(_table + TableSchema.SummarySuffix);
        _rows = new RowPreparation(options.TimeZone, options.Identifier, options.MaxRejectedPayloadBytes);
        _busyTimeoutMilliseconds = (int)options.BusyTimeout.TotalMilliseconds;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,

            // Microsoft.Data.Sqlite also retries a busy statement until the command timeout; 0 would mean forever.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Gets the name of the table that holds the rows.</summary>
    public string Table => _table;

    /// <inheritdoc/>
    /// <remarks>Creates the file, its directory and the tables when missing, and switches the file to WAL mode. An existing
    /// table without a unique key, or with the first wave's key on local time, still works; a line says so, once.</remarks>
    /// <exception cref="AmbientStorageException">The file cannot be created or opened, is not a SQLite database, or an
    /// existing table cannot take rows (a missing column, a unique index that would drop readings).</exception>
    public Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            try
            {
                using var connection = Open();
                var schema = Inspect(connection);
                if (schema.Problem is { } problem)
                {
                    throw new AmbientStorageException($"SQLite database {DatabasePath}: {problem}");
                }

                var created = new List<string>();
                var create = string.Empty;
                if (!schema.TableExists)
                {
                    create += CreateTableSql;
                    created.Add(_table);
                }

                if (!schema.RejectedTableExists)
                {
                    create += CreateRejectedTableSql;
                    created.Add(_table + TableSchema.RejectedSuffix);
                }

                var buildSummaries = !schema.SummaryTableExists && (!schema.TableExists || schema.HasUtcColumn);
                if (buildSummaries)
                {
                    create += CreateSummaryTableSql;
                    created.Add(_table + TableSchema.SummarySuffix);
                }

                if (create.Length > 0)
                {
                    using var command = connection.CreateCommand();
                    command.CommandText = create + (buildSummaries && schema.TableExists ? RebuildSummariesSql : string.Empty);
                    command.ExecuteNonQuery();
                    schema = Inspect(connection);
                }

                _schema = schema;
                WarnOnce(schema);
                Log.SqliteSchemaReady(_logger, _table, DatabasePath, created.Count == 0 ? "nothing" : string.Join(", ", created));
            }
            catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Wrap(ex, "creating the tables");
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Builds the 5-minute summaries anew from the rows, in one transaction.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the summaries are rebuilt.</returns>
    /// <exception cref="AmbientStorageException">The file could not be written.</exception>
    public Task RebuildSummariesAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            try
            {
                using var connection = Open();
                using var command = connection.CreateCommand();
                command.CommandText = RebuildSummariesSql;
                command.ExecuteNonQuery();
            }
            catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Wrap(ex, "rebuilding the summaries");
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<BatchWriteResult> WriteBatchAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (RowPreparation.IsEmptyBatch(readings, rejected))
        {
            return Task.FromResult(new BatchWriteResult(0, 0, 0, []));
        }

        var rows = _rows.Prepare(readings);
        var started = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            try
            {
                using var connection = Open();
                var schema = _schema ??= Inspect(connection);
                if (schema.Problem is { } problem)
                {
                    throw new AmbientStorageException($"SQLite database {DatabasePath}: {problem}");
                }

                WarnOnce(schema);
                var result = Write(connection, schema, readings, rows, rejected, cancellationToken);
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    Log.BatchCommitted(_logger, _table, result.Inserted, result.Duplicates, result.Rejected, elapsed);
                }

                return Task.FromResult(result);
            }
            catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
            {
                var wrapped = Wrap(ex, "the batch");
                Log.SqliteWriteFailed(_logger, DatabasePath, wrapped.Message);
                throw wrapped;
            }
        }
    }

    /// <summary>Closes the repository's pooled connections (which folds the write-ahead log into the database file).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private static string Quote(string name) => "\"" + name + "\"";

    private string CreateTableSql =>
        $"""
        CREATE TABLE IF NOT EXISTS {_quotedTable} (
          row_id        INTEGER PRIMARY KEY AUTOINCREMENT,
          timestamp     TEXT NOT NULL,
          identifier    TEXT NOT NULL CONSTRAINT ck_identifier_length CHECK (length(identifier) <= 64),
          temperature   REAL, humidity REAL, pressure REAL,
          timestamp_utc TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS "ux_{_table}_identifier_timestamp_utc" ON {_quotedTable} (identifier, timestamp_utc);
        CREATE INDEX IF NOT EXISTS "ix_{_table}_timestamp_utc" ON {_quotedTable} (timestamp_utc);

        """;

    private string CreateRejectedTableSql =>
        $"""
        CREATE TABLE IF NOT EXISTS {_quotedRejected} (
          row_id        INTEGER PRIMARY KEY AUTOINCREMENT,
          received_at   TEXT NOT NULL,
          topic         TEXT NOT NULL,
          payload       BLOB NOT NULL,
          payload_bytes INTEGER NOT NULL,
          reason        TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "ix_{_table}{TableSchema.RejectedSuffix}_received_at" ON {_quotedRejected} (received_at);

        """;

    private string CreateSummaryTableSql =>
        $"""
        CREATE TABLE IF NOT EXISTS {_quotedSummary} (
          identifier      TEXT NOT NULL,
          bucket_utc      TEXT NOT NULL,
          readings        INTEGER NOT NULL,
          temperature_sum REAL NOT NULL, temperature_min REAL NOT NULL, temperature_max REAL NOT NULL,
          humidity_sum    REAL NOT NULL, humidity_min    REAL NOT NULL, humidity_max    REAL NOT NULL,
          pressure_sum    REAL NOT NULL, pressure_min    REAL NOT NULL, pressure_max    REAL NOT NULL,
          PRIMARY KEY (identifier, bucket_utc)
        );
        CREATE INDEX IF NOT EXISTS "ix_{_table}{TableSchema.SummarySuffix}_bucket_utc" ON {_quotedSummary} (bucket_utc);

        """;

    /// <summary>The summaries anew from the rows; the bucket is the UTC time cut to a multiple of 5 minutes, as text.</summary>
    private string RebuildSummariesSql =>
        $"""
        BEGIN IMMEDIATE;
        DELETE FROM {_quotedSummary};
        INSERT INTO {_quotedSummary} (identifier, bucket_utc, readings, temperature_sum, temperature_min, temperature_max, humidity_sum, humidity_min, humidity_max, pressure_sum, pressure_min, pressure_max)
          SELECT identifier, datetime((CAST(strftime('%s', timestamp_utc) AS INTEGER) / {SummaryRow.BucketSeconds}) * {SummaryRow.BucketSeconds}, 'unixepoch') AS bucket, COUNT(*),
                 SUM(temperature), MIN(temperature), MAX(temperature), SUM(humidity), MIN(humidity), MAX(humidity), SUM(pressure), MIN(pressure), MAX(pressure)
          FROM {_quotedTable}
          WHERE temperature IS NOT NULL AND humidity IS NOT NULL AND pressure IS NOT NULL
          GROUP BY identifier, bucket;
        COMMIT;

        """;

    private BatchWriteResult Write(
        SqliteConnection connection,
        TableSchema schema,
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken)
    {
        RowPreparation.ResetOutcomes(rows);

        // BEGIN IMMEDIATE: the write lock is taken (or waited for) now, not halfway through the batch, where a conflict
        // with another writer could not be waited out.
        using var transaction = connection.BeginTransaction(deferred: false);
        var candidates = RowPreparation.Candidates(rows);
        if (candidates.Count > 0)
        {
            InsertRows(connection, transaction, schema, rows, candidates, cancellationToken);
        }

        if (schema.SummaryTableExists && SummaryRow.Of(rows) is { Count: > 0 } summaries)
        {
            UpsertSummaries(connection, transaction, summaries);
        }

        var deadLetters = _rows.CollectDeadLetters(readings, rows, rejected);
        if (deadLetters.Count > 0)
        {
            InsertDeadLetters(connection, transaction, deadLetters, cancellationToken);
        }

        transaction.Commit();
        return RowPreparation.Result(rows, deadLetters.Count);
    }

    /// <summary>Row by row through one prepared statement: the number of rows changed tells each reading's outcome
    /// exactly (a reading stored earlier, or earlier in the same batch, changes none), and a row the database refuses
    /// fails alone, leaving the transaction intact.</summary>
    private void InsertRows(SqliteConnection connection, SqliteTransaction transaction, TableSchema schema, PendingRow[] rows, List<int> candidates, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;

        // Without a conflict target, DO NOTHING applies to whichever unique index the table has (the current key or the
        // first wave's); TableSchema refused any index that could take two distinct readings for one.
        command.CommandText = schema.HasUtcColumn
            ? $"INSERT INTO {_quotedTable} (timestamp, identifier, temperature, humidity, pressure, timestamp_utc) VALUES ($t, $i, $a, $h, $p, $u) ON CONFLICT DO NOTHING"
            : $"INSERT INTO {_quotedTable} (timestamp, identifier, temperature, humidity, pressure) VALUES ($t, $i, $a, $h, $p) ON CONFLICT DO NOTHING";
        var timestamp = command.Parameters.Add("$t", SqliteType.Text);
        var identifier = command.Parameters.Add("$i", SqliteType.Text);
        var temperature = command.Parameters.Add("$a", SqliteType.Real);
        var humidity = command.Parameters.Add("$h", SqliteType.Real);
        var pressure = command.Parameters.Add("$p", SqliteType.Real);
        var utc = schema.HasUtcColumn ? command.Parameters.Add("$u", SqliteType.Text) : null;
        command.Prepare();

        foreach (var index in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ref var row = ref rows[index];
            timestamp.Value = row.Local.ToString(LocalTimeFormat, CultureInfo.InvariantCulture);
            identifier.Value = row.Identifier;
            temperature.Value = row.Temperature;
            humidity.Value = row.Humidity;
            pressure.Value = row.Pressure;
            if (utc is not null)
            {
                utc.Value = row.Utc.ToString(LocalTimeFormat, CultureInfo.InvariantCulture);
            }

            try
            {
                row.Outcome = command.ExecuteNonQuery() == 1 ? RowOutcome.Inserted : RowOutcome.Duplicate;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteConstraint or SqliteTooBig or SqliteMismatch)
            {
                row.Outcome = RowOutcome.Rejected;
                row.Reason = ex.Message;
                Log.ReadingRefused(_logger, row.Identifier, RowPreparation.Describe(row.Stored), ex.Message);
            }
        }
    }

    private void UpsertSummaries(SqliteConnection connection, SqliteTransaction transaction, List<SummaryRow> summaries)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            $"INSERT INTO {_quotedSummary} (identifier, bucket_utc, readings, temperature_sum, temperature_min, temperature_max, humidity_sum, humidity_min, humidity_max, pressure_sum, pressure_min, pressure_max) "
            + "VALUES ($i, $b, $n, $ts, $tl, $th, $hs, $hl, $hh, $ps, $pl, $ph) ON CONFLICT (identifier, bucket_utc) DO UPDATE SET readings = readings + excluded.readings, "
            + "temperature_sum = temperature_sum + excluded.temperature_sum, temperature_min = min(temperature_min, excluded.temperature_min), temperature_max = max(temperature_max, excluded.temperature_max), "
            + "humidity_sum = humidity_sum + excluded.humidity_sum, humidity_min = min(humidity_min, excluded.humidity_min), humidity_max = max(humidity_max, excluded.humidity_max), "
            + "pressure_sum = pressure_sum + excluded.pressure_sum, pressure_min = min(pressure_min, excluded.pressure_min), pressure_max = max(pressure_max, excluded.pressure_max)";
        foreach (var s in summaries)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$i", s.Identifier);
            command.Parameters.AddWithValue("$b", s.BucketUtc.ToString(BucketFormat, CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$n", s.Readings);
            command.Parameters.AddWithValue("$ts", s.TemperatureSum);
            command.Parameters.AddWithValue("$tl", s.TemperatureMin);
            command.Parameters.AddWithValue("$th", s.TemperatureMax);
            command.Parameters.AddWithValue("$hs", s.HumiditySum);
            command.Parameters.AddWithValue("$hl", s.HumidityMin);
            command.Parameters.AddWithValue("$hh", s.HumidityMax);
            command.Parameters.AddWithValue("$ps", s.PressureSum);
            command.Parameters.AddWithValue("$pl", s.PressureMin);
            command.Parameters.AddWithValue("$ph", s.PressureMax);
            command.ExecuteNonQuery();
        }
    }

    private void InsertDeadLetters(SqliteConnection connection, SqliteTransaction transaction, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO {_quotedRejected} (received_at, topic, payload, payload_bytes, reason) VALUES ($r, $o, $b, $n, $w)";
        var receivedAt = command.Parameters.Add("$r", SqliteType.Text);
        var topic = command.Parameters.Add("$o", SqliteType.Text);
        var payload = command.Parameters.Add("$b", SqliteType.Blob);
        var payloadBytes = command.Parameters.Add("$n", SqliteType.Integer);
        var reason = command.Parameters.Add("$w", SqliteType.Text);
        command.Prepare();

        foreach (var deadLetter in deadLetters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            receivedAt.Value = deadLetter.ReceivedAt.ToString(LocalTimeFormat, CultureInfo.InvariantCulture);
            topic.Value = RowPreparation.Truncate(deadLetter.Topic, RowPreparation.TopicLength);
            payload.Value = _rows.PayloadPrefix(deadLetter.Payload).ToArray();
            payloadBytes.Value = deadLetter.Payload.Length;
            reason.Value = RowPreparation.Truncate(deadLetter.Reason, RowPreparation.ReasonLength);
            command.ExecuteNonQuery();
        }
    }

    private void WarnOnce(TableSchema schema)
    {
        if (Interlocked.Exchange(ref _warned, 1) != 0)
        {
            return;
        }

        if (schema.KeyOnLocalTime)
        {
            Log.KeyOnLocalTime(_logger, _table, _zone, ZoneAdvice.Collisions(_zone));
        }
        else if (!schema.HasKey)
        {
            Log.SqliteMissingUniqueKey(_logger, _table);
        }
    }

    private SqliteConnection Open()
    {
        var directory = Path.GetDirectoryName(DatabasePath);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new AmbientStorageException($"SQLite database {DatabasePath}: cannot create the directory {directory}: {ex.Message}", ex);
            }
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();

            // Per connection: wait for another writer rather than fail at once, and sync every commit to disk (a
            // message is acknowledged once its row is committed, so a commit must survive a power cut).
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {_busyTimeoutMilliseconds}; PRAGMA synchronous = FULL;");
            command.ExecuteNonQuery();

            if (Interlocked.Exchange(ref _journalChecked, 1) == 0)
            {
                // Persistent in the file: set once, it stays for every later connection, this program's or another's.
                command.CommandText = "PRAGMA journal_mode = WAL;";
                var mode = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? string.Empty;
                if (!mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                {
                    Log.SqliteNotWal(_logger, DatabasePath, mode);
                }
            }

            return connection;
        }
        catch
        {
            Interlocked.Exchange(ref _journalChecked, 0);
            connection.Dispose();
            throw;
        }
    }

    private TableSchema Inspect(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT name FROM pragma_table_info($table);\n"
            + "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $rejected;\n"
            + "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $summary;\n"
            + "SELECT il.name, ii.name FROM pragma_index_list($table) AS il JOIN pragma_index_info(il.name) AS ii WHERE il.\"unique\" = 1 AND il.partial = 0 AND il.origin <> 'pk' ORDER BY il.name, ii.seqno;\n";
        command.Parameters.AddWithValue("$table", _table);
        command.Parameters.AddWithValue("$rejected", _table + TableSchema.RejectedSuffix);
        command.Parameters.AddWithValue("$summary", _table + TableSchema.SummarySuffix);

        var columns = new List<string>();
        var indexes = new List<(string Index, string Column)>();
        bool rejectedExists, summaryExists;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }

            reader.NextResult();
            reader.Read();
            rejectedExists = reader.GetInt64(0) > 0;
            reader.NextResult();
            reader.Read();
            summaryExists = reader.GetInt64(0) > 0;
            reader.NextResult();
            while (reader.Read())
            {
                indexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return TableSchema.Classify(
            _table,
            columns,
            indexes.GroupBy(i => i.Index, StringComparer.Ordinal).Select(g => (g.Key, (IReadOnlyCollection<string>)g.Select(i => i.Column).ToList())),
            rejectedExists,
            summaryExists,
            index => $"DROP INDEX \"{index}\"");
    }

    private AmbientStorageException Wrap(SqliteException ex, string action)
    {
        var code = ex.SqliteErrorCode;
        var advice = code switch
        {
            SqliteBusy or SqliteLocked => string.Create(CultureInfo.InvariantCulture, $" (another program kept the database busy for more than {_busyTimeoutMilliseconds} ms)"),
            SqliteCantOpen => " (check that the directory exists and this user may write there)",
            SqliteReadOnly => " (the file or its directory is read-only for this user)",
            SqliteCorrupt or SqliteNotADatabase => " (the file is not a usable SQLite database; move it away or choose another Database:Path)",
            SqliteFull => " (the disk is full; retried until space is freed)",
            _ => string.Empty,
        };

        // Busy, an I/O error or a full disk may pass; a file that cannot be opened, is read-only or is not a database will not.
        var transient = code is SqliteBusy or SqliteLocked or SqliteIoError or SqliteFull;
        var cause = ex.Message.TrimEnd('.') + advice;
        var message = transient
            ? $"SQLite database {DatabasePath} could not take {action} ({cause}); it was not committed and can be retried."
            : $"SQLite database {DatabasePath}: {action} failed: {cause}";
        return new AmbientStorageException(message, ex) { IsTransient = transient };
    }
}
