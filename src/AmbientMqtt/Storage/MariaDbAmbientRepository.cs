using System.Data;
using System.Diagnostics;
using System.Globalization;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace AmbientMqtt.Storage;

/// <summary>
/// Stores readings in a MariaDB (or MySQL) table, one row per reading, as the tutorial's subscriber does: wall-clock time
/// in the configured zone, values rounded to two decimals. A batch is one transaction; a redelivered reading is a no-op
/// thanks to the unique key on (identifier, timestamp); a reading the server refuses goes, with the server's reason, to
/// the dead-letter table <c>&lt;Table&gt;_rejected</c>, together with the payloads that could not be decoded.
/// </summary>
/// <remarks>
/// <para>Batches are written on one connection kept open between them (one round trip per batch in the common case:
/// transaction, multi-row INSERT and commit travel together); when it fails it is dropped, and the next attempt opens a
/// fresh one from the data source's pool, so a restarted server is used again on the next call. Calls are serialized.
/// </para>
/// <para>The connection string's password never appears in an exception message or a log line.</para>
/// </remarks>
public sealed partial class MariaDbAmbientRepository : IAmbientRepository, IAsyncDisposable, ISynchronousBatchWriter
{
    private const int UniqueKeyUnknown = 0;
    private const int UniqueKeyPresent = 1;
    private const int UniqueKeyMissing = 2;

    private static readonly string[] WrittenColumns = ["timestamp", "identifier", "temperature", "humidity", "pressure"];

    private readonly MySqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly string _table;
    private readonly string _rejectedTable;
    private readonly AmbientSql _sql;
    private readonly RowPreparation _rows;
    private readonly string _endpoint;
    private readonly string? _password;
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private MySqlConnection? _writer;
    private bool _poolOnly;

    // The fast path's parameters, made once and refilled for every batch (calls are serialized): a batch of 500 rows
    // would otherwise allocate 2,500 of them.
    private readonly List<MySqlParameter> _rowParameters = [];
    private int _uniqueKey;
    private int _uniqueKeyWarned;

    /// <summary>Initializes a repository.</summary>
    /// <param name="dataSource">Where connections come from; its connection string names the server, user and database.</param>
    /// <param name="options">The table, time zone, default identifier and dead-letter limit; read once, here.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">The table name is not a plain identifier, the time zone is unknown, the
    /// identifier is empty or too long, or the dead-letter limit is out of range.</exception>
    public MariaDbAmbientRepository(MySqlDataSource dataSource, MariaDbRepositoryOptions options, ILogger<MariaDbAmbientRepository>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);

        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        var table = options.Table;
        _dataSource = dataSource;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _table = table;
        _rejectedTable = table + "_rejected";
        _sql = new AmbientSql("`" + _table + "`", "`" + _rejectedTable + "`");
        _rows = new RowPreparation(options.TimeZone, options.Identifier, options.MaxRejectedPayloadBytes);
        _endpoint = MariaDbEndpoint.Describe(dataSource.ConnectionString);
        _password = MariaDbEndpoint.Password(dataSource.ConnectionString);
    }

    /// <inheritdoc/>
    /// <remarks>Creates only what is missing, so a user without the CREATE privilege can use tables made beforehand. An
    /// existing table without a unique key on (identifier, timestamp) still works; a warning says so, once.</remarks>
    /// <exception cref="AmbientStorageException">The server could not be reached, refused, or an existing table lacks a
    /// column the repository writes.</exception>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var schema = await InspectAsync(connection, cancellationToken).ConfigureAwait(false);
                if (schema.MissingColumns.Count > 0)
                {
                    throw new AmbientStorageException(
                        $"MariaDB at {_endpoint}: table `{_table}` exists but has no column {string.Join(", ", schema.MissingColumns)}, which every row needs. Rename the table or set another table name.");
                }

                var create = (schema.TableExists ? string.Empty : _sql.CreateTable) + (schema.RejectedTableExists ? string.Empty : _sql.CreateRejectedTable);
                if (create.Length > 0)
                {
                    using var command = new MySqlCommand(AmbientSql.SetSqlMode + create, connection);
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                Log.SchemaReady(
                    _logger,
                    _table,
                    _rejectedTable,
                    _endpoint,
                    (schema.TableExists, schema.RejectedTableExists) switch
                    {
                        (true, true) => "none",
                        (false, false) => "both",
                        (false, true) => _table,
                        (true, false) => _rejectedTable,
                    });
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
        {
            throw MariaDbErrors.Wrap(ex, MariaDbErrors.IsTransient(ex), _endpoint, _password, "creating the tables");
        }
    }

    /// <inheritdoc/>
    public Task<BatchWriteResult> WriteBatchAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken = default)
        => WriteBatchCoreAsync(readings, rejected, synchronous: false, cancellationToken);

    /// <summary>
    /// <see cref="WriteBatchAsync"/> with blocking I/O, for the ingest pipeline's own thread: the common case (open
    /// connection, one round trip) then completes on the calling thread, without an event-loop or thread-pool hop.
    /// </summary>
    BatchWriteResult ISynchronousBatchWriter.WriteBatch(IReadOnlyList<AmbientReading> readings, IReadOnlyList<RejectedPayload> rejected, CancellationToken cancellationToken)
        => WriteBatchCoreAsync(readings, rejected, synchronous: true, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc/>
    void ISynchronousBatchWriter.OpenWriter()
    {
        _writerGate.Wait();
        try
        {
            if (_writer is not { State: ConnectionState.Open })
            {
                OpenWriterAsync(synchronous: true, CancellationToken.None).GetAwaiter().GetResult();
            }
        }
        catch (Exception ex) when (MariaDbErrors.IsDatabaseFailure(ex))
        {
            // The first batch opens it again, retrying and reporting as usual.
            DropWriterAsync().GetAwaiter().GetResult();
        }
        finally
        {
            _writerGate.Release();
        }
    }

    private async Task OpenWriterAsync(bool synchronous, CancellationToken cancellationToken)
    {
        await DropWriterAsync().ConfigureAwait(false);
        _writer = synchronous
            ? OpenSynchronousWriter()
            : await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // Once per connection: the writer is kept open between batches, so the fast path need not repeat it. The fast
        // path's single INSERT commits by autocommit, whatever a server's init_connect may have said.
        using var mode = new MySqlCommand(AmbientSql.SetSqlMode + "SET SESSION autocommit = 1;", _writer);
        await ExecuteAsync(mode, synchronous, cancellationToken).ConfigureAwait(false);
    }

    private async Task<BatchWriteResult> WriteBatchCoreAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        bool synchronous,
        CancellationToken cancellationToken)
    {
        if (RowPreparation.IsEmptyBatch(readings, rejected))
        {
            return new BatchWriteResult(0, 0, 0, []);
        }

        var rows = _rows.Prepare(readings);
        var started = Stopwatch.GetTimestamp();
        if (synchronous)
        {
            _writerGate.Wait(cancellationToken);
        }
        else
        {
            await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await WriteWithRetryAsync(readings, rows, rejected, started, synchronous, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writerGate.Release();
        }
    }

    /// <summary>Closes the connection kept for writing batches.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _writerGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await DropWriterAsync().ConfigureAwait(false);
        }
        finally
        {
            _writerGate.Release();
        }
    }

    private async Task<BatchWriteResult> WriteWithRetryAsync(
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        IReadOnlyList<RejectedPayload> rejected,
        long started,
        bool synchronous,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var opened = false;
            try
            {
                if (_writer is not { State: ConnectionState.Open })
                {
                    await OpenWriterAsync(synchronous, cancellationToken).ConfigureAwait(false);
                }

                opened = true;
                var result = await WriteAsync(_writer!, readings, rows, rejected, synchronous, cancellationToken).ConfigureAwait(false);
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
                await DropWriterAsync().ConfigureAwait(false);
                var transient = MariaDbErrors.IsTransient(ex);

                // A pooled connection that died with the server, or a deadlock, deserves one more go; a server that cannot
                // be reached at all does not (the caller backs off and retries the batch).
                if (transient && opened && attempt == 1 && !MariaDbErrors.IsTimeout(ex))
                {
                    Log.RetryingOnFreshConnection(_logger, _endpoint, MariaDbErrors.Scrub(ex.Message, _password));
                    continue;
                }

                var wrapped = MariaDbErrors.Wrap(ex, transient, _endpoint, _password, "the batch");
                Log.WriteFailed(_logger, _endpoint, wrapped.Message);
                throw wrapped;
            }
            catch
            {
                await DropWriterAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// The writer of the synchronous path: a connection of its own, outside the pool, opened and used only with blocking
    /// calls. A pooled connection may have been used asynchronously before (creating the tables), and on Linux its socket
    /// then stays non-blocking and registered with the event loop, which wakes a thread for every reply; measured, that
    /// was four times the futex calls per batch. When the data source cannot be reproduced from its connection string (a
    /// password provider, certificate callbacks), the pool is used after all.
    /// </summary>
    private MySqlConnection OpenSynchronousWriter()
    {
        if (!_poolOnly)
        {
            var builder = new MySqlConnectionStringBuilder(_dataSource.ConnectionString) { Pooling = false };
            var connection = new MySqlConnection(builder.ConnectionString);
            try
            {
                connection.Open();
                return connection;
            }
            catch (MySqlException ex) when (!MariaDbErrors.IsTransient(ex))
            {
                connection.Dispose();
                _poolOnly = true;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        return _dataSource.OpenConnection();
    }

    private async Task DropWriterAsync()
    {
        var writer = _writer;
        _writer = null;
        if (writer is not null)
        {
            try
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (MariaDbErrors.IsDatabaseFailure(ex) || ex is InvalidOperationException)
            {
                // Already broken; closing it is all that was wanted.
            }
        }
    }

    private async Task<BatchWriteResult> WriteAsync(
        MySqlConnection connection,
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        IReadOnlyList<RejectedPayload> rejected,
        bool synchronous,
        CancellationToken cancellationToken)
    {
        // A retry starts from scratch: forget the outcomes of the failed attempt.
        RowPreparation.ResetOutcomes(rows);

        if (Volatile.Read(ref _uniqueKey) == UniqueKeyUnknown && rows.Length > 0)
        {
            // EnsureSchemaAsync was not called (the tables were made beforehand): look once, to know how to tell new rows.
            await InspectAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        if (await TryWriteWholeBatchAsync(connection, rows, rejected, synchronous, cancellationToken).ConfigureAwait(false))
        {
            return RowPreparation.Result(rows, 0);
        }

        var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var candidates = RowPreparation.Candidates(rows);

            var claimed = new HashSet<ulong>();
            for (var start = 0; start < candidates.Count; start += AmbientSql.MaxRowsPerStatement)
            {
                var chunk = candidates.GetRange(start, Math.Min(AmbientSql.MaxRowsPerStatement, candidates.Count - start));
                await InsertAsync(connection, transaction, rows, chunk, claimed, cancellationToken).ConfigureAwait(false);
            }

            var deadLetters = _rows.CollectDeadLetters(readings, rows, rejected);
            await InsertDeadLettersAsync(connection, transaction, deadLetters, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return RowPreparation.Result(rows, deadLetters.Count);
        }
    }

    /// <summary>Inserts the rows at <paramref name="indices"/>; when the server refuses one row's value, splits until the
    /// refused rows stand alone and marks them rejected (a failed statement is rolled back on its own, the transaction
    /// goes on).</summary>
    private async Task InsertAsync(
        MySqlConnection connection,
        MySqlTransaction transaction,
        PendingRow[] rows,
        List<int> indices,
        HashSet<ulong> claimed,
        CancellationToken cancellationToken)
    {
        var withOutcomes = Volatile.Read(ref _uniqueKey) != UniqueKeyMissing;
        if (withOutcomes && await TryInsertAllNewAsync(connection, transaction, rows, indices, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        using var command = new MySqlCommand(
            withOutcomes ? _sql.InsertWithOutcomes(indices.Count) : _sql.InsertOnly(indices.Count),
            connection,
            transaction);
        AddRowParameters(command, rows, indices);

        try
        {
            if (!withOutcomes)
            {
                // No unique key: nothing is ever a duplicate.
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            var before = new bool[indices.Count];
            var after = new ulong?[indices.Count];
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var resultSet = 0;
                do
                {
                    if (reader.FieldCount == 0)
                    {
                        continue;
                    }

                    var first = resultSet++ == 0;
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var k = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                        if (first)
                        {
                            before[k] = true;
                        }
                        else
                        {
                            after[k] = reader.GetUInt64(1);
                        }
                    }
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
            }

            for (var k = 0; k < indices.Count; k++)
            {
                // Ours: absent from the snapshot before, visible after, and the first of the batch with that row id.
                var ours = !before[k] && after[k] is { } rowId && claimed.Add(rowId);
                rows[indices[k]].Outcome = ours ? RowOutcome.Inserted : RowOutcome.Duplicate;
            }
        }
        catch (MySqlException ex) when (MariaDbErrors.IsRowError(ex))
        {
            if (indices.Count == 1)
            {
                ref var row = ref rows[indices[0]];
                row.Outcome = RowOutcome.Rejected;
                row.Reason = ex.Message;
                Log.ReadingRefused(_logger, row.Identifier, RowPreparation.Describe(row.Stored), ex.Message);
                return;
            }

            var half = indices.Count / 2;
            await InsertAsync(connection, transaction, rows, indices.GetRange(0, half), claimed, cancellationToken).ConfigureAwait(false);
            await InsertAsync(connection, transaction, rows, indices.GetRange(half, indices.Count - half), claimed, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The common case in one round trip: a batch of new readings that fits one statement and has nothing for the
    /// dead-letter table goes in as one INSERT, committed by autocommit. <see langword="false"/> when the batch does not
    /// qualify or the INSERT was refused (a reading already stored, a value refused): nothing of it stayed, and the caller
    /// takes the careful path, statement by statement.
    /// </summary>
    private async Task<bool> TryWriteWholeBatchAsync(MySqlConnection connection, PendingRow[] rows, IReadOnlyList<RejectedPayload> rejected, bool synchronous, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _uniqueKey) != UniqueKeyPresent || rejected.Count > 0 || rows.Length == 0 || rows.Length > AmbientSql.MaxRowsPerStatement)
        {
            return false;
        }

        var indices = RowPreparation.Candidates(rows);
        if (indices.Count != rows.Length)
        {
            return false;
        }

        using var command = new MySqlCommand(_sql.InsertBatch(indices.Count), connection);
        FillPositionalRowParameters(command, rows, indices, _rowParameters);
        try
        {
            await ExecuteAsync(command, synchronous, cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry || MariaDbErrors.IsRowError(ex))
        {
            using var rollback = new MySqlCommand("ROLLBACK", connection);
            await ExecuteAsync(rollback, synchronous, cancellationToken).ConfigureAwait(false);
            return false;
        }
        finally
        {
            // A parameter belongs to one collection at a time: free them for the next batch.
            command.Parameters.Clear();
        }

        return true;
    }

    private static ValueTask<int> ExecuteAsync(MySqlCommand command, bool synchronous, CancellationToken cancellationToken)
    {
        if (synchronous)
        {
            // Blocking I/O stops at the command timeout, not at the token: honour a token that has already fired.
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<int>(command.ExecuteNonQuery());
        }

        return new ValueTask<int>(command.ExecuteNonQueryAsync(cancellationToken));
    }

    /// <summary>The fast path: one plain multi-row INSERT. <see langword="true"/> when it went in whole (every row new);
    /// <see langword="false"/> when a row was already stored, and the statement was rolled back on its own.</summary>
    private async Task<bool> TryInsertAllNewAsync(
        MySqlConnection connection,
        MySqlTransaction transaction,
        PendingRow[] rows,
        List<int> indices,
        CancellationToken cancellationToken)
    {
        using var command = new MySqlCommand(_sql.InsertPlain(indices.Count), connection, transaction);
        AddRowParameters(command, rows, indices);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return false;
        }
        catch (MySqlException ex) when (MariaDbErrors.IsRowError(ex))
        {
            // A refused value: the careful path splits the batch down to the refused row.
            return false;
        }

        foreach (var index in indices)
        {
            rows[index].Outcome = RowOutcome.Inserted;
        }

        return true;
    }

    /// <summary>The row values without names, for <see cref="AmbientSql.InsertBatch"/>, in parameters taken from
    /// <paramref name="reusable"/> (grown as needed).</summary>
    internal static void FillPositionalRowParameters(MySqlCommand command, PendingRow[] rows, List<int> indices, List<MySqlParameter> reusable)
    {
        while (reusable.Count < indices.Count * 5)
        {
            reusable.Add(new MySqlParameter { MySqlDbType = MySqlDbType.DateTime });
            reusable.Add(new MySqlParameter { MySqlDbType = MySqlDbType.VarChar });
            reusable.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double });
            reusable.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double });
            reusable.Add(new MySqlParameter { MySqlDbType = MySqlDbType.Double });
        }

        var parameters = command.Parameters;
        for (var k = 0; k < indices.Count; k++)
        {
            ref readonly var row = ref rows[indices[k]];
            var p = k * 5;
            reusable[p].Value = row.Local;
            reusable[p + 1].Value = row.Identifier;
            reusable[p + 2].Value = row.Temperature;
            reusable[p + 3].Value = row.Humidity;
            reusable[p + 4].Value = row.Pressure;
            for (var i = p; i < p + 5; i++)
            {
                parameters.Add(reusable[i]);
            }
        }
    }

    internal static void AddRowParameters(MySqlCommand command, PendingRow[] rows, List<int> indices)
    {
        var parameters = command.Parameters;
        for (var k = 0; k < indices.Count; k++)
        {
            ref readonly var row = ref rows[indices[k]];
            parameters.Add(new MySqlParameter(AmbientSql.TimestampName(k), MySqlDbType.DateTime) { Value = row.Local });
            parameters.Add(new MySqlParameter(AmbientSql.IdentifierName(k), MySqlDbType.VarChar) { Value = row.Identifier });
            parameters.Add(new MySqlParameter(AmbientSql.TemperatureName(k), MySqlDbType.Double) { Value = row.Temperature });
            parameters.Add(new MySqlParameter(AmbientSql.HumidityName(k), MySqlDbType.Double) { Value = row.Humidity });
            parameters.Add(new MySqlParameter(AmbientSql.PressureName(k), MySqlDbType.Double) { Value = row.Pressure });
        }
    }

    private async Task InsertDeadLettersAsync(MySqlConnection connection, MySqlTransaction transaction, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        var maxPayloadBytes = _rows.MaxRejectedPayloadBytes;
        var start = 0;
        while (start < deadLetters.Count)
        {
            // Bounded by rows and by bytes, so that a statement stays well below max_allowed_packet.
            var count = 0;
            var bytes = 0;
            while (start + count < deadLetters.Count && count < AmbientSql.MaxRowsPerStatement
                && (count == 0 || bytes + Math.Min(deadLetters[start + count].Payload.Length, maxPayloadBytes) <= AmbientSql.MaxDeadLetterBytesPerStatement))
            {
                bytes += Math.Min(deadLetters[start + count].Payload.Length, maxPayloadBytes);
                count++;
            }

            using var command = new MySqlCommand(_sql.InsertDeadLetters(count), connection, transaction);
            var parameters = command.Parameters;
            for (var k = 0; k < count; k++)
            {
                var deadLetter = deadLetters[start + k];
                var payload = deadLetter.Payload;
                parameters.Add(new MySqlParameter(AmbientSql.ReceivedAtName(k), MySqlDbType.DateTime) { Value = deadLetter.ReceivedAt });
                parameters.Add(new MySqlParameter(AmbientSql.TopicName(k), MySqlDbType.VarChar) { Value = RowPreparation.Truncate(deadLetter.Topic, RowPreparation.TopicLength) });
                parameters.Add(new MySqlParameter(AmbientSql.PayloadName(k), MySqlDbType.Blob) { Value = _rows.PayloadPrefix(payload) });
                parameters.Add(new MySqlParameter(AmbientSql.PayloadBytesName(k), MySqlDbType.Int32) { Value = payload.Length });
                parameters.Add(new MySqlParameter(AmbientSql.ReasonName(k), MySqlDbType.VarChar) { Value = RowPreparation.Truncate(deadLetter.Reason, RowPreparation.ReasonLength) });
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            start += count;
        }
    }

    private async Task<SchemaState> InspectAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        using var command = new MySqlCommand(AmbientSql.Inspect, connection);
        command.Parameters.AddWithValue("@table", _table);
        command.Parameters.AddWithValue("@rejected", _rejectedTable);

        string? database;
        var columns = new List<(string Table, string Column)>();
        var uniqueKeys = new List<(string Table, string Index, string Column)>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            database = reader.IsDBNull(0) ? null : reader.GetString(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                uniqueKeys.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        if (database is null)
        {
            throw new AmbientStorageException($"MariaDB at {_endpoint}: the connection string names no database (Database=...).");
        }

        // information_schema matches names without regard to case; a server with case-sensitive names may hold both
        // `Ambient` and `ambient`, so prefer the exact name and fall back to the other spelling (lower_case_table_names).
        var tableName = PickName(columns.Select(c => c.Table), _table);
        var rejectedName = PickName(columns.Select(c => c.Table), _rejectedTable);
        var tableColumns = columns.Where(c => c.Table == tableName).Select(c => c.Column).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = tableName is null ? [] : WrittenColumns.Where(c => !tableColumns.Contains(c)).ToList();

        // Any unique index made only of identifier and timestamp makes a redelivered reading a no-op.
        var hasUniqueKey = uniqueKeys
            .Where(k => k.Table == tableName)
            .GroupBy(k => k.Index, StringComparer.Ordinal)
            .Any(index => index.All(k => k.Column.Equals("identifier", StringComparison.OrdinalIgnoreCase)
                || k.Column.Equals("timestamp", StringComparison.OrdinalIgnoreCase)));

        if (tableName is not null)
        {
            Volatile.Write(ref _uniqueKey, hasUniqueKey ? UniqueKeyPresent : UniqueKeyMissing);
            if (!hasUniqueKey && Interlocked.Exchange(ref _uniqueKeyWarned, 1) == 0)
            {
                Log.MissingUniqueKey(_logger, _table);
            }
        }
        else
        {
            // The table is about to be created with the key.
            Volatile.Write(ref _uniqueKey, UniqueKeyPresent);
        }

        return new SchemaState(tableName is not null, rejectedName is not null, missing);
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

    private sealed record SchemaState(bool TableExists, bool RejectedTableExists, IReadOnlyList<string> MissingColumns);
}
