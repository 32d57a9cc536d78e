using System.Diagnostics;
using System.Globalization;
using AmbientMqtt.Logging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AmbientMqtt.Storage;

/// <summary>
/// Stores readings in a SQLite database file, in a table of the same shape as the MariaDB one: wall-clock time in the
/// configured zone as text (<c>yyyy-MM-dd HH:mm:ss.ffffff</c>, which sorts and reads like MariaDB's <c>DATETIME(6)</c>),
/// values rounded to two decimals, a unique key on (identifier, timestamp) that makes a redelivered reading a no-op, and
/// the dead-letter table <c>&lt;Table&gt;_rejected</c>. Nothing to install: the SQLite engine comes with the package.
/// </summary>
/// <remarks>
/// <para>A batch is one <c>BEGIN IMMEDIATE</c> transaction, so two programs on the same file take turns instead of
/// failing; the file is in WAL mode, so a reader (<c>sqlite3</c>, a report) never holds the writer back, and commits
/// are synchronous (<c>synchronous=FULL</c>): a row is on disk before its message is acknowledged, even if the power
/// fails.</para>
/// <para>Identifiers are compared exactly (SQLite's binary collation): <c>Node-7</c> and <c>node-7</c> are two nodes here,
/// where MariaDB's default collation takes them for one. An identifier longer than 64 characters is refused by a check
/// constraint, as MariaDB's <c>VARCHAR(64)</c> refuses it, and goes to the dead-letter table.</para>
/// <para>Dispose the repository to close its pooled connections, which folds the write-ahead log into the file.</para>
/// </remarks>
public sealed class SqliteAmbientRepository : IAmbientRepository, IDisposable
{
    private const int UniqueKeyUnknown = 0;
    private const int UniqueKeyPresent = 1;
    private const int UniqueKeyMissing = 2;

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

    private static readonly string[] WrittenColumns = ["timestamp", "identifier", "temperature", "humidity", "pressure"];

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly string _table;
    private readonly string _rejectedTable;
    private readonly string _quotedTable;
    private readonly string _quotedRejectedTable;
    private readonly RowPreparation _rows;
    private readonly int _busyTimeoutMilliseconds;
    private int _uniqueKey;
    private int _uniqueKeyWarned;
    private int _journalChecked;
    private bool _disposed;

    /// <summary>Initializes a repository. Nothing is opened or created until the first call.</summary>
    /// <param name="options">The file, table, time zone, default identifier and dead-letter limit; read once, here.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">A setting is wrong; the message names its key (<c>Database:Table</c>, …).</exception>
    public SqliteAmbientRepository(SqliteRepositoryOptions options, ILogger<SqliteAmbientRepository>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        DatabasePath = options.FullPath();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _table = options.Table;
        _rejectedTable = options.Table + "_rejected";
        _quotedTable = "\"" + _table + "\"";
        _quotedRejectedTable = "\"" + _rejectedTable + "\"";
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
    /// table without a unique index on (identifier, timestamp) still works; a warning says so, once.</remarks>
    /// <exception cref="AmbientStorageException">The file cannot be created or opened, is not a SQLite database, or an
    /// existing table lacks a column the repository writes.</exception>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var schema = Inspect(connection);
                if (schema.MissingColumns.Count > 0)
                {
                    throw new AmbientStorageException(
                        $"SQLite database {DatabasePath}: table {_table} exists but has no column {string.Join(", ", schema.MissingColumns)}, which every row needs. Rename the table or set another table name.");
                }

                var create = (schema.TableExists ? string.Empty : CreateTableSql) + (schema.RejectedTableExists ? string.Empty : CreateRejectedTableSql);
                if (create.Length > 0)
                {
                    using var command = connection.CreateCommand();
                    command.CommandText = create;
                    command.ExecuteNonQuery();
                }

                Log.SqliteSchemaReady(
                    _logger,
                    _table,
                    _rejectedTable,
                    DatabasePath,
                    (schema.TableExists, schema.RejectedTableExists) switch
                    {
                        (true, true) => "none",
                        (false, false) => "both",
                        (false, true) => _table,
                        (true, false) => _rejectedTable,
                    });
            }
        }
        catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Wrap(ex, "creating the tables");
        }
    }

    /// <inheritdoc/>
    public async Task<BatchWriteResult> WriteBatchAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (RowPreparation.IsEmptyBatch(readings, rejected))
        {
            return new BatchWriteResult(0, 0, 0, []);
        }

        var rows = _rows.Prepare(readings);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var result = Write(connection, readings, rows, rejected, cancellationToken);
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    Log.BatchCommitted(_logger, _table, result.Inserted, result.Duplicates, result.Rejected, elapsed);
                }

                return result;
            }
        }
        catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
        {
            var wrapped = Wrap(ex, "the batch");
            Log.SqliteWriteFailed(_logger, DatabasePath, wrapped.Message);
            throw wrapped;
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

    private string CreateTableSql =>
        $"""
        CREATE TABLE IF NOT EXISTS {_quotedTable} (
          row_id      INTEGER PRIMARY KEY AUTOINCREMENT,
          timestamp   TEXT NOT NULL,
          identifier  TEXT NOT NULL CONSTRAINT ck_identifier_length CHECK (length(identifier) <= 64),
          temperature REAL, humidity REAL, pressure REAL,
          CONSTRAINT ux_identifier_timestamp UNIQUE (identifier, timestamp)
        );

        """;

    private string CreateRejectedTableSql =>
        $"""
        CREATE TABLE IF NOT EXISTS {_quotedRejectedTable} (
          row_id        INTEGER PRIMARY KEY AUTOINCREMENT,
          received_at   TEXT NOT NULL,
          topic         TEXT NOT NULL,
          payload       BLOB NOT NULL,
          payload_bytes INTEGER NOT NULL,
          reason        TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "ix_{_rejectedTable}_received_at" ON {_quotedRejectedTable} (received_at);

        """;

    private BatchWriteResult Write(
        SqliteConnection connection,
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken)
    {
        RowPreparation.ResetOutcomes(rows);
        if (Volatile.Read(ref _uniqueKey) == UniqueKeyUnknown && rows.Length > 0)
        {
            // EnsureSchemaAsync was not called (the tables were made beforehand): look once, to know how to insert.
            Inspect(connection);
        }

        // BEGIN IMMEDIATE: the write lock is taken (or waited for) now, not halfway through the batch, where a conflict
        // with another writer could not be waited out.
        using var transaction = connection.BeginTransaction(deferred: false);
        var candidates = RowPreparation.Candidates(rows);
        if (candidates.Count > 0)
        {
            InsertRows(connection, transaction, rows, candidates, cancellationToken);
        }

        var deadLetters = _rows.CollectDeadLetters(readings, rows, rejected);
        if (deadLetters.Count > 0)
        {
            InsertDeadLetters(connection, transaction, deadLetters, cancellationToken);
        }

        transaction.Commit();
        return RowPreparation.Result(rows, deadLetters.Count);
    }

    /// <summary>Inserts row by row through one prepared statement (in-process, so there is no round trip to save): the
    /// number of rows changed tells each reading's outcome exactly, a duplicate of a row stored earlier or earlier in the
    /// same batch included, and a row the database refuses fails alone, leaving the transaction intact.</summary>
    private void InsertRows(SqliteConnection connection, SqliteTransaction transaction, PendingRow[] rows, List<int> candidates, CancellationToken cancellationToken)
    {
        var withKey = Volatile.Read(ref _uniqueKey) != UniqueKeyMissing;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            $"INSERT INTO {_quotedTable} (timestamp, identifier, temperature, humidity, pressure) VALUES ($t, $i, $a, $h, $p)"
            + (withKey ? " ON CONFLICT (identifier, timestamp) DO NOTHING" : string.Empty);
        var timestamp = command.Parameters.Add("$t", SqliteType.Text);
        var identifier = command.Parameters.Add("$i", SqliteType.Text);
        var temperature = command.Parameters.Add("$a", SqliteType.Real);
        var humidity = command.Parameters.Add("$h", SqliteType.Real);
        var pressure = command.Parameters.Add("$p", SqliteType.Real);
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

    private void InsertDeadLetters(SqliteConnection connection, SqliteTransaction transaction, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO {_quotedRejectedTable} (received_at, topic, payload, payload_bytes, reason) VALUES ($r, $o, $b, $n, $w)";
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

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
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
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
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
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private SchemaState Inspect(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT name FROM pragma_table_info($table);\n"
            + "SELECT name FROM pragma_table_info($rejected);\n"
            + "SELECT il.name, ii.name FROM pragma_index_list($table) AS il JOIN pragma_index_info(il.name) AS ii WHERE il.\"unique\" = 1 AND il.partial = 0;\n";
        command.Parameters.AddWithValue("$table", _table);
        command.Parameters.AddWithValue("$rejected", _rejectedTable);

        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var rejectedExists = false;
        var uniqueIndexes = new List<(string Index, string Column)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }

            reader.NextResult();
            while (reader.Read())
            {
                rejectedExists = true;
            }

            reader.NextResult();
            while (reader.Read())
            {
                uniqueIndexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var tableExists = columns.Count > 0;
        var missing = tableExists ? WrittenColumns.Where(c => !columns.Contains(c)).ToList() : [];

        // ON CONFLICT (identifier, timestamp) needs a unique index on exactly those two columns.
        var hasUniqueKey = uniqueIndexes
            .GroupBy(k => k.Index, StringComparer.Ordinal)
            .Any(index => index.Select(k => k.Column.ToUpperInvariant()).OrderBy(c => c, StringComparer.Ordinal).SequenceEqual(["IDENTIFIER", "TIMESTAMP"]));

        if (tableExists)
        {
            Volatile.Write(ref _uniqueKey, hasUniqueKey ? UniqueKeyPresent : UniqueKeyMissing);
            if (!hasUniqueKey && Interlocked.Exchange(ref _uniqueKeyWarned, 1) == 0)
            {
                Log.SqliteMissingUniqueKey(_logger, _table);
            }
        }
        else
        {
            // The table is about to be created with the key.
            Volatile.Write(ref _uniqueKey, UniqueKeyPresent);
        }

        return new SchemaState(tableExists, rejectedExists, missing);
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
            SqliteFull => " (the disk is full)",
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

    private sealed record SchemaState(bool TableExists, bool RejectedTableExists, IReadOnlyList<string> MissingColumns);
}
