using System.Data;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AmbientMqtt.Storage;

/// <summary>
/// Stores readings in a MariaDB (or MySQL) table, one row per reading, as the tutorial's subscriber does: wall-clock time
/// in the configured zone, values rounded to two decimals, and beside them the instant in UTC, on which the unique key
/// rests. A redelivered reading is a no-op; a reading the server refuses goes, with the server's reason, to the
/// dead-letter table <c>&lt;Table&gt;_rejected</c>, together with the payloads that could not be decoded; the 5-minute
/// summaries in <c>&lt;Table&gt;_5m</c> (what charts of long ranges read) are kept in the same transaction.
/// </summary>
/// <remarks>
/// <para>One write path, asynchronous: a batch goes in one round trip as one transaction (its rows, their summaries, its
/// dead letters, the commit) on a connection kept open between batches. When a row of it is already stored (a
/// redelivery) or refused, that transaction is rolled back and the batch is written row by row in a second one, where
/// each row's outcome is its own. A connection that fails is dropped; the next attempt opens a fresh one from the data
/// source's pool, so a restarted server is used again at once. Calls are serialized.</para>
/// <para>Galera's certification conflict (two nodes committing the same key) arrives as a deadlock at commit; the batch
/// is retried at once, a few times, and counted (<see cref="Conflicts"/>). A batch whose first attempt may have committed
/// without this side hearing of it (a timeout, a connection lost during the commit) reports its rows found stored on the
/// retry as inserted, not as redeliveries.</para>
/// <para>The connection string's password never appears in an exception message or a log line.</para>
/// </remarks>
public sealed partial class MariaDbAmbientRepository : IAmbientRepository, IAsyncDisposable
{
    private const int MaxConflictRetries = 5;
    private const int MaxUnsureKeys = 100_000;

    private readonly MySqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly string _table;
    private readonly MariaDbSql _sql;
    private readonly RowPreparation _rows;
    private readonly string _zone;
    private readonly string _endpoint;
    private readonly string? _password;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly AmbientMetrics _metrics;

    // Rows of attempts that failed after the statement was sent: they may have committed. Found stored later, they are ours.
    private readonly HashSet<(string Identifier, DateTime Utc)> _unsure = [];
    private MySqlConnection? _connection;
    private TableSchema? _schema;
    private long _conflicts;
    private int _warned;

    /// <summary>Initializes a repository.</summary>
    /// <param name="dataSource">Where connections come from; its connection string names the server, user and database.</param>
    /// <param name="options">The table, time zone, default identifier and dead-letter limit; read once, here.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <param name="meterFactory">Where the meter comes from (conflicts are counted); the process-wide meter when omitted.</param>
    /// <exception cref="ArgumentException">A setting is wrong; the message names its key (<c>Database:Table</c>, …).</exception>
    public MariaDbAmbientRepository(MySqlDataSource dataSource, MariaDbRepositoryOptions options, ILogger<MariaDbAmbientRepository>? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        OptionsCheck.ThrowIfInvalid(MariaDbRepositoryOptionsValidator.Instance, options);

        _dataSource = dataSource;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _table = options.Table;
        _zone = options.TimeZone;
        _sql = new MariaDbSql(_table);
        _rows = new RowPreparation(options.TimeZone, options.Identifier, options.MaxRejectedPayloadBytes);
        _endpoint = MariaDbEndpoint.Describe(dataSource.ConnectionString);
        _password = MariaDbEndpoint.Password(dataSource.ConnectionString);
        _metrics = AmbientMetrics.For(meterFactory);
    }

    /// <summary>Gets the name of the table that holds the rows.</summary>
    public string Table => _table;

    /// <summary>Gets how many certification conflicts (Galera) or deadlocks made a batch be retried.</summary>
    public long Conflicts => Interlocked.Read(ref _conflicts);

    /// <inheritdoc/>
    /// <remarks>Creates only what is missing, so a user without the CREATE privilege can use tables made beforehand, and
    /// opens the connection batches are written on (as the tutorial connects once, at start). An existing table without
    /// a unique key, or with the first wave's key on local time, still works; a line says so, once.</remarks>
    /// <exception cref="AmbientStorageException">The server could not be reached or refused, or an existing table cannot
    /// take rows (a missing column, a unique index that would drop readings).</exception>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            var schema = await InspectAsync(connection, cancellationToken).ConfigureAwait(false);
            if (schema.Problem is { } problem)
            {
                throw new AmbientStorageException($"MariaDB at {_endpoint}: {problem}");
            }

            var created = new List<string>();
            var create = string.Empty;
            if (!schema.TableExists)
            {
                create += _sql.CreateTable;
                created.Add(_table);
            }

            if (!schema.RejectedTableExists)
            {
                create += _sql.CreateRejectedTable;
                created.Add(_table + TableSchema.RejectedSuffix);
            }

            // Summaries rest on the instant: a table without timestamp_utc gets them when it is upgraded.
            var buildSummaries = !schema.SummaryTableExists && (!schema.TableExists || schema.HasUtcColumn);
            if (buildSummaries)
            {
                create += _sql.CreateSummaryTable;
                created.Add(_table + TableSchema.SummarySuffix);
            }

            if (create.Length > 0)
            {
                using var command = new MySqlCommand(create, connection);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                if (buildSummaries && schema.TableExists)
                {
                    // A table that had rows before it had summaries (an upgrade, or rows written by another program).
                    using var rebuild = new MySqlCommand(_sql.RebuildSummaries, connection) { CommandTimeout = 0 };
                    await rebuild.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                schema = await InspectAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            _schema = schema;
            WarnOnce(schema);
            Log.SchemaReady(_logger, _table, _endpoint, created.Count == 0 ? "nothing" : string.Join(", ", created));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
        {
            await DropConnectionAsync().ConfigureAwait(false);
            throw MariaDbErrors.Wrap(ex, MariaDbErrors.IsTransient(ex), _endpoint, _password, "creating the tables");
        }
        finally
        {
            _gate.Release();
        }

    }

    /// <summary>
    /// Builds the 5-minute summaries anew from the rows, in one transaction: after rows were written or deleted by another
    /// program, or to check that nothing drifted.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the summaries are rebuilt.</returns>
    /// <exception cref="AmbientStorageException">The server could not be reached or refused.</exception>
    public async Task RebuildSummariesAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
            using var command = new MySqlCommand(_sql.RebuildSummaries, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
        {
            await DropConnectionAsync().ConfigureAwait(false);
            throw MariaDbErrors.Wrap(ex, MariaDbErrors.IsTransient(ex), _endpoint, _password, "rebuilding the summaries");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<BatchWriteResult> WriteBatchAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken = default)
    {
        if (RowPreparation.IsEmptyBatch(readings, rejected))
        {
            return new BatchWriteResult(0, 0, 0, []);
        }

        var rows = _rows.Prepare(readings);
        var started = Stopwatch.GetTimestamp();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var reused = _connection is not null;
                var sent = false;
                try
                {
                    var connection = await ConnectionAsync(cancellationToken).ConfigureAwait(false);
                    var schema = _schema ??= await InspectAsync(connection, cancellationToken).ConfigureAwait(false);
                    if (schema.Problem is { } problem)
                    {
                        throw new AmbientStorageException($"MariaDB at {_endpoint}: {problem}");
                    }

                    WarnOnce(schema);
                    sent = true;
                    var result = await WriteAsync(connection, schema, readings, rows, rejected, cancellationToken).ConfigureAwait(false);
                    if (_logger.IsEnabled(LogLevel.Debug))
                    {
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        Log.BatchCommitted(_logger, _table, result.Inserted, result.Duplicates, result.Rejected, elapsed);
                    }

                    return result;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
                {
                    // Whatever state the connection is in (a transaction left open, a broken socket), it is not used again.
                    await DropConnectionAsync().ConfigureAwait(false);
                    if (sent && MariaDbErrors.MayHaveCommitted(ex))
                    {
                        RememberUnsure(rows);
                    }

                    if (MariaDbErrors.IsConflict(ex) && attempt <= MaxConflictRetries)
                    {
                        // Galera's certification conflict, or a deadlock: the other transaction won; ours is retried at once.
                        Interlocked.Increment(ref _conflicts);
                        _metrics.Conflict();
                        Log.WriteConflict(_logger, _endpoint, attempt);
                        await Task.Delay(Random.Shared.Next(1, 20 * attempt), cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    // A kept connection that died with a restarted server deserves one more go on a fresh one; a server
                    // that cannot be reached at all, or did not answer in time, does not: the caller backs off.
                    var transient = MariaDbErrors.IsTransient(ex);
                    if (transient && reused && attempt == 1 && !MariaDbErrors.IsTimeout(ex))
                    {
                        Log.RetryingOnFreshConnection(_logger, _endpoint, MariaDbErrors.Scrub(ex.Message, _password));
                        continue;
                    }

                    throw MariaDbErrors.Wrap(ex, transient, _endpoint, _password, "the batch");
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the connection kept for writing batches.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await DropConnectionAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<BatchWriteResult> WriteAsync(
        MySqlConnection connection,
        TableSchema schema,
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken)
    {
        RowPreparation.ResetOutcomes(rows);
        var candidates = RowPreparation.Candidates(rows);
        if (await TryWriteAtOnceAsync(connection, schema, readings, rows, candidates, rejected, cancellationToken).ConfigureAwait(false) is { } done)
        {
            return done;
        }

        // The careful path: row by row in one transaction. A failed statement is rolled back on its own (a duplicate key,
        // a refused value); the transaction goes on, and the row's outcome is known exactly.
        RowPreparation.ResetOutcomes(rows);
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            using (var insert = new MySqlCommand(_sql.InsertRow(schema.HasUtcColumn), connection, transaction))
            {
                foreach (var index in candidates)
                {
                    insert.Parameters.Clear();
                    AddRow(insert.Parameters, rows[index], schema.HasUtcColumn);
                    try
                    {
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        rows[index].Outcome = RowOutcome.Inserted;
                    }
                    catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
                    {
                        // Stored before; ours, if an earlier attempt of ours may have committed it.
                        rows[index].Outcome = _unsure.Contains((rows[index].Identifier, rows[index].Utc)) ? RowOutcome.Inserted : RowOutcome.Duplicate;
                    }
                    catch (MySqlException ex) when (MariaDbErrors.IsRowError(ex))
                    {
                        rows[index].Outcome = RowOutcome.Rejected;
                        rows[index].Reason = ex.Message;
                        Log.ReadingRefused(_logger, rows[index].Identifier, RowPreparation.Describe(rows[index].Stored), ex.Message);
                    }
                }
            }

            if (schema.SummaryTableExists && SummaryRow.Of(rows) is { Count: > 0 } summaries)
            {
                using var upsert = new MySqlCommand(_sql.UpsertSummaries(summaries.Count), connection, transaction);
                AddSummaries(upsert.Parameters, summaries);
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var deadLetters = _rows.CollectDeadLetters(readings, rows, rejected);
            await InsertDeadLettersAsync(connection, transaction, deadLetters, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            ForgetUnsure(rows);
            return RowPreparation.Result(rows, deadLetters.Count);
        }
    }

    /// <summary>
    /// The common case in one round trip: every row new, and the dead letters small enough for one statement. Returns
    /// <see langword="null"/> when the batch does not qualify or a row was refused or already stored: then nothing of it
    /// stayed, and the caller takes the careful path.
    /// </summary>
    private async Task<BatchWriteResult?> TryWriteAtOnceAsync(
        MySqlConnection connection,
        TableSchema schema,
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        List<int> candidates,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken)
    {
        foreach (var index in candidates)
        {
            rows[index].Outcome = RowOutcome.Inserted;
        }

        var deadLetters = _rows.CollectDeadLetters(readings, rows, rejected);
        var deadLetterBytes = deadLetters.Sum(d => (long)_rows.PayloadPrefix(d.Payload).Length);
        if (deadLetterBytes > MariaDbSql.MaxDeadLetterBytesPerStatement)
        {
            return null;
        }

        var summaries = schema.SummaryTableExists ? SummaryRow.Of(rows) : [];
        using var command = new MySqlCommand(_sql.Batch(candidates.Count, schema.HasUtcColumn, summaries.Count, deadLetters.Count), connection);
        var parameters = command.Parameters;
        foreach (var index in candidates)
        {
            AddRow(parameters, rows[index], schema.HasUtcColumn);
        }

        AddSummaries(parameters, summaries);
        AddDeadLetters(parameters, deadLetters, 0, deadLetters.Count);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry || MariaDbErrors.IsRowError(ex))
        {
            // The server stopped at the failed statement, inside the transaction the batch opened.
            using var rollback = new MySqlCommand("ROLLBACK;", connection);
            await rollback.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        ForgetUnsure(rows);
        return RowPreparation.Result(rows, deadLetters.Count);
    }

    private async Task InsertDeadLettersAsync(MySqlConnection connection, MySqlTransaction transaction, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        var start = 0;
        while (start < deadLetters.Count)
        {
            // Bounded by rows and by bytes, so that a statement stays well below max_allowed_packet.
            var count = 0;
            var bytes = 0;
            while (start + count < deadLetters.Count && count < MariaDbSql.MaxRowsPerStatement)
            {
                var next = _rows.PayloadPrefix(deadLetters[start + count].Payload).Length;
                if (count > 0 && bytes + next > MariaDbSql.MaxDeadLetterBytesPerStatement)
                {
                    break;
                }

                bytes += next;
                count++;
            }

            using var command = new MySqlCommand(_sql.InsertDeadLetters(count), connection, transaction);
            AddDeadLetters(command.Parameters, deadLetters, start, count);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            start += count;
        }
    }

    private static void AddRow(MySqlParameterCollection parameters, in PendingRow row, bool withUtc)
    {
        parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.DateTime, Value = row.Local });
        parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.VarChar, Value = row.Identifier });
        parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double, Value = row.Temperature });
        parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double, Value = row.Humidity });
        parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double, Value = row.Pressure });
        if (withUtc)
        {
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.DateTime, Value = row.Utc });
        }
    }

    private static void AddSummaries(MySqlParameterCollection parameters, List<SummaryRow> summaries)
    {
        foreach (var s in summaries)
        {
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.VarChar, Value = s.Identifier });
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.DateTime, Value = s.BucketUtc });
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Int32, Value = s.Readings });
            foreach (var value in (ReadOnlySpan<double>)[s.TemperatureSum, s.TemperatureMin, s.TemperatureMax, s.HumiditySum, s.HumidityMin, s.HumidityMax, s.PressureSum, s.PressureMin, s.PressureMax])
            {
                parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double, Value = value });
            }
        }
    }

    private void AddDeadLetters(MySqlParameterCollection parameters, List<DeadLetter> deadLetters, int start, int count)
    {
        for (var k = start; k < start + count; k++)
        {
            var deadLetter = deadLetters[k];
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.DateTime, Value = deadLetter.ReceivedAt });
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.VarChar, Value = RowPreparation.Truncate(deadLetter.Topic, RowPreparation.TopicLength) });
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Blob, Value = _rows.PayloadPrefix(deadLetter.Payload) });
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Int32, Value = deadLetter.Payload.Length });
            parameters.Add(new MySqlParameter { MySqlDbType = MySqlDbType.VarChar, Value = RowPreparation.Truncate(deadLetter.Reason, RowPreparation.ReasonLength) });
        }
    }

    private void RememberUnsure(PendingRow[] rows)
    {
        if (_unsure.Count > MaxUnsureKeys)
        {
            // Only ever large when the database fails for long, batch after batch; the counts then err towards duplicates.
            _unsure.Clear();
        }

        foreach (ref readonly var row in rows.AsSpan())
        {
            if (row.ClientReason is null)
            {
                _unsure.Add((row.Identifier, row.Utc));
            }
        }
    }

    private void ForgetUnsure(PendingRow[] rows)
    {
        if (_unsure.Count == 0)
        {
            return;
        }

        foreach (ref readonly var row in rows.AsSpan())
        {
            _unsure.Remove((row.Identifier, row.Utc));
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
            Log.MissingUniqueKey(_logger, _table);
        }
    }

    private async Task<MySqlConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { State: ConnectionState.Open } open)
        {
            return open;
        }

        await DropConnectionAsync().ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var setup = new MySqlCommand(MariaDbSql.SessionSetup, connection);
            await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _connection = connection;
        return connection;
    }

    private async Task DropConnectionAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is not null)
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (MariaDbErrors.IsDatabaseFailure(ex) || ex is InvalidOperationException)
            {
                // Already broken; closing it is all that was wanted.
            }
        }
    }

    private async Task<TableSchema> InspectAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        using var command = new MySqlCommand(MariaDbSql.Inspect, connection);
        command.Parameters.AddWithValue("@table", _table);
        command.Parameters.AddWithValue("@rejected", _table + TableSchema.RejectedSuffix);
        command.Parameters.AddWithValue("@summary", _table + TableSchema.SummarySuffix);

        string? database;
        string? version;
        var columns = new List<(string Table, string Column)>();
        var indexes = new List<(string Table, string Index, string Column)>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            database = reader.IsDBNull(0) ? null : reader.GetString(0);
            version = reader.IsDBNull(1) ? null : reader.GetString(1);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                indexes.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        if (database is null)
        {
            throw new AmbientStorageException($"MariaDB at {_endpoint}: the connection string names no database (Database=...).");
        }

        if (version is not null && !version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase))
        {
            _sql.Collation = "utf8mb4_0900_bin";
        }

        // information_schema matches names without regard to case; a server with case-sensitive names may hold both
        // `Ambient` and `ambient`, so prefer the exact name and fall back to the other spelling (lower_case_table_names).
        var names = columns.Select(c => c.Table).Distinct(StringComparer.Ordinal).ToList();
        var table = PickName(names, _table);
        return TableSchema.Classify(
            $"`{_table}`",
            columns.Where(c => c.Table == table).Select(c => c.Column).ToList(),
            indexes.Where(i => i.Table == table).GroupBy(i => i.Index, StringComparer.Ordinal).Select(g => (g.Key, (IReadOnlyCollection<string>)g.Select(i => i.Column).ToList())),
            PickName(names, _table + TableSchema.RejectedSuffix) is not null,
            PickName(names, _table + TableSchema.SummarySuffix) is not null,
            _sql.DropIndex);
    }

    private static string? PickName(IEnumerable<string> names, string wanted)
    {
        string? folded = null;
        foreach (var name in names)
        {
            if (name == wanted)
            {
                return name;
            }

            if (name.Equals(wanted, StringComparison.OrdinalIgnoreCase))
            {
                folded = name;
            }
        }

        return folded;
    }
}
