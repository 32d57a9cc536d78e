using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.Storage;

/// <summary>
/// Stores readings in a MariaDB (or MySQL) table, one row per reading, as the tutorial's subscriber does: wall-clock time
/// in the configured zone, values rounded to two decimals. A batch is one transaction; a redelivered reading is a no-op
/// thanks to the unique key on (identifier, timestamp); a reading the server refuses goes, with the server's reason, to
/// the dead-letter table <c>&lt;Table&gt;_rejected</c>, together with the payloads that could not be decoded.
/// </summary>
/// <remarks>
/// Each call takes a connection from the data source's pool and gives it back, so a restarted server is used again on
/// the next call. The connection string's password never appears in an exception message or a log line.
/// </remarks>
public sealed partial class MariaDbAmbientRepository : IAmbientRepository
{
    private const int TopicLength = 255;
    private const int ReasonLength = 1024;

    private const int UniqueKeyUnknown = 0;
    private const int UniqueKeyPresent = 1;
    private const int UniqueKeyMissing = 2;

    // Instants whose wall-clock time fits DateTime (years 1 to 9999) in any zone.
    private static readonly Instant MinTimestamp = Instant.FromUtc(1, 1, 2, 0, 0);
    private static readonly Instant MaxTimestamp = Instant.FromUtc(9999, 12, 30, 0, 0);

    private static readonly string[] WrittenColumns = ["timestamp", "identifier", "temperature", "humidity", "pressure"];

    private readonly MySqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly string _table;
    private readonly string _rejectedTable;
    private readonly AmbientSql _sql;
    private readonly DateTimeZone _zone;
    private readonly string _identifier;
    private readonly int _maxRejectedPayloadBytes;
    private readonly string _endpoint;
    private readonly string? _password;
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
        var zone = DateTimeZoneProviders.Tzdb[options.TimeZone];
        _dataSource = dataSource;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _table = table;
        _rejectedTable = table + "_rejected";
        _sql = new AmbientSql("`" + _table + "`", "`" + _rejectedTable + "`");
        _zone = zone;
        _identifier = options.Identifier!;
        _maxRejectedPayloadBytes = options.MaxRejectedPayloadBytes;
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
    public async Task<BatchWriteResult> WriteBatchAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentNullException.ThrowIfNull(rejected);
        foreach (var payload in rejected)
        {
            ArgumentNullException.ThrowIfNull(payload, nameof(rejected));
        }

        if (readings.Count == 0 && rejected.Count == 0)
        {
            return new BatchWriteResult(0, 0, 0, []);
        }

        var rows = Prepare(readings);
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            var opened = false;
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    opened = true;
                    var result = await WriteAsync(connection, readings, rows, rejected, cancellationToken).ConfigureAwait(false);
                    if (_logger.IsEnabled(LogLevel.Debug))
                    {
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        Log.BatchCommitted(_logger, _table, result.Inserted, result.Duplicates, result.Rejected, elapsed);
                    }

                    return result;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
            {
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
        }
    }

    private async Task<BatchWriteResult> WriteAsync(
        MySqlConnection connection,
        IReadOnlyList<AmbientReading> readings,
        PendingRow[] rows,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken)
    {
        // A retry starts from scratch: forget the outcomes of the failed attempt.
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i].Outcome = rows[i].ClientReason is null ? RowOutcome.Inserted : RowOutcome.Rejected;
            rows[i].Reason = rows[i].ClientReason;
        }

        if (Volatile.Read(ref _uniqueKey) == UniqueKeyUnknown && rows.Length > 0)
        {
            // EnsureSchemaAsync was not called (the tables were made beforehand): look once, to know how to tell new rows.
            await InspectAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var candidates = new List<int>(rows.Length);
            for (var i = 0; i < rows.Length; i++)
            {
                if (rows[i].ClientReason is null)
                {
                    candidates.Add(i);
                }
            }

            var claimed = new HashSet<ulong>();
            for (var start = 0; start < candidates.Count; start += AmbientSql.MaxRowsPerStatement)
            {
                var chunk = candidates.GetRange(start, Math.Min(AmbientSql.MaxRowsPerStatement, candidates.Count - start));
                await InsertAsync(connection, transaction, rows, chunk, claimed, cancellationToken).ConfigureAwait(false);
            }

            var deadLetters = CollectDeadLetters(readings, rows, rejected);
            await InsertDeadLettersAsync(connection, transaction, deadLetters, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

            var inserted = 0;
            var duplicates = 0;
            var stored = new StoredRow[rows.Length];
            for (var i = 0; i < rows.Length; i++)
            {
                ref readonly var row = ref rows[i];
                inserted += row.Outcome == RowOutcome.Inserted ? 1 : 0;
                duplicates += row.Outcome == RowOutcome.Duplicate ? 1 : 0;
                stored[i] = new StoredRow(row.Stored, row.Identifier, row.Temperature, row.Humidity, row.Pressure, row.Outcome);
            }

            return new BatchWriteResult(inserted, duplicates, deadLetters.Count, stored);
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
                Log.ReadingRefused(_logger, row.Identifier, row.Stored.ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffffzzz", CultureInfo.InvariantCulture), ex.Message);
                return;
            }

            var half = indices.Count / 2;
            await InsertAsync(connection, transaction, rows, indices.GetRange(0, half), claimed, cancellationToken).ConfigureAwait(false);
            await InsertAsync(connection, transaction, rows, indices.GetRange(half, indices.Count - half), claimed, cancellationToken).ConfigureAwait(false);
        }
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

    private static void AddRowParameters(MySqlCommand command, PendingRow[] rows, List<int> indices)
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

    private List<DeadLetter> CollectDeadLetters(IReadOnlyList<AmbientReading> readings, PendingRow[] rows, IReadOnlyList<RejectedPayload> rejected)
    {
        var deadLetters = new List<DeadLetter>(rejected.Count);
        foreach (var payload in rejected)
        {
            deadLetters.Add(new DeadLetter(LocalTime(payload.ReceivedAt), payload.Topic ?? string.Empty, payload.Payload, payload.Reason ?? string.Empty));
        }

        DateTime? now = null;
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Outcome == RowOutcome.Rejected)
            {
                now ??= LocalTime(SystemClock.Instance.GetCurrentInstant());
                deadLetters.Add(new DeadLetter(now.Value, string.Empty, EncodeForDeadLetter(readings[i]), rows[i].Reason ?? "refused"));
            }
        }

        return deadLetters;
    }

    private async Task InsertDeadLettersAsync(MySqlConnection connection, MySqlTransaction transaction, List<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        var start = 0;
        while (start < deadLetters.Count)
        {
            // Bounded by rows and by bytes, so that a statement stays well below max_allowed_packet.
            var count = 0;
            var bytes = 0;
            while (start + count < deadLetters.Count && count < AmbientSql.MaxRowsPerStatement
                && (count == 0 || bytes + Math.Min(deadLetters[start + count].Payload.Length, _maxRejectedPayloadBytes) <= AmbientSql.MaxDeadLetterBytesPerStatement))
            {
                bytes += Math.Min(deadLetters[start + count].Payload.Length, _maxRejectedPayloadBytes);
                count++;
            }

            using var command = new MySqlCommand(_sql.InsertDeadLetters(count), connection, transaction);
            var parameters = command.Parameters;
            for (var k = 0; k < count; k++)
            {
                var deadLetter = deadLetters[start + k];
                var payload = deadLetter.Payload;
                parameters.Add(new MySqlParameter(AmbientSql.ReceivedAtName(k), MySqlDbType.DateTime) { Value = deadLetter.ReceivedAt });
                parameters.Add(new MySqlParameter(AmbientSql.TopicName(k), MySqlDbType.VarChar) { Value = Truncate(deadLetter.Topic, TopicLength) });
                parameters.Add(new MySqlParameter(AmbientSql.PayloadName(k), MySqlDbType.Blob) { Value = payload[..Math.Min(payload.Length, _maxRejectedPayloadBytes)] });
                parameters.Add(new MySqlParameter(AmbientSql.PayloadBytesName(k), MySqlDbType.Int32) { Value = payload.Length });
                parameters.Add(new MySqlParameter(AmbientSql.ReasonName(k), MySqlDbType.VarChar) { Value = Truncate(deadLetter.Reason, ReasonLength) });
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

    private PendingRow[] Prepare(IReadOnlyList<AmbientReading> readings)
    {
        var rows = new PendingRow[readings.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var reading = readings[i];
            ref var row = ref rows[i];
            row.Identifier = reading.Identifier ?? _identifier;
            row.Temperature = PythonRound.Round2(reading.Temperature);
            row.Humidity = PythonRound.Round2(reading.Humidity);
            row.Pressure = PythonRound.Round2(reading.Pressure);

            if (reading.Timestamp < MinTimestamp || reading.Timestamp > MaxTimestamp)
            {
                row.Stored = reading.Timestamp < MinTimestamp ? DateTimeOffset.MinValue : DateTimeOffset.MaxValue;
                row.ClientReason = $"field 'timestamp': {InstantPattern.ExtendedIso.Format(reading.Timestamp)} is outside the years 1 to 9999 the table holds";
                continue;
            }

            // The table keeps microseconds (DATETIME(6)), as Python's datetime does: truncate, never round up.
            var ticks = reading.Timestamp.ToUnixTimeTicks();
            ticks -= ((ticks % 10) + 10) % 10;
            var zoned = Instant.FromUnixTimeTicks(ticks).InZone(_zone);
            row.Local = zoned.LocalDateTime.ToDateTimeUnspecified();
            row.Stored = zoned.ToDateTimeOffset();

            row.ClientReason = NonFinite("temperature", reading.Temperature)
                ?? NonFinite("humidity", reading.Humidity)
                ?? NonFinite("pressure", reading.Pressure);
        }

        return rows;
    }

    private DateTime LocalTime(Instant instant)
    {
        if (instant < MinTimestamp || instant > MaxTimestamp)
        {
            instant = SystemClock.Instance.GetCurrentInstant();
        }

        var ticks = instant.ToUnixTimeTicks();
        ticks -= ((ticks % 10) + 10) % 10;
        return Instant.FromUnixTimeTicks(ticks).InZone(_zone).LocalDateTime.ToDateTimeUnspecified();
    }

    private static string? NonFinite(string field, double value) =>
        double.IsFinite(value) ? null : $"field '{field}': {NonFiniteName(value)} is not a finite number";

    // The names JSON readers (and Python's json module) use, rather than .NET's "∞".
    private static string NonFiniteName(double value) =>
        double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";

    /// <summary>The reading as the wire would carry it; when the codec refuses it (the very reason it was rejected, such
    /// as an over-long identifier or a non-finite value), the same fields written as they are.</summary>
    private static ReadOnlyMemory<byte> EncodeForDeadLetter(in AmbientReading reading)
    {
        try
        {
            return AmbientPayload.Encode(reading);
        }
        catch (ArgumentException)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("timestamp", InstantPattern.ExtendedIso.Format(reading.Timestamp));
                WriteNumber(writer, "temperature", reading.Temperature);
                WriteNumber(writer, "humidity", reading.Humidity);
                WriteNumber(writer, "pressure", reading.Pressure);
                if (reading.Identifier is not null)
                {
                    writer.WriteString("identifier", reading.Identifier);
                }

                writer.WriteEndObject();
            }

            return stream.ToArray();
        }

        static void WriteNumber(Utf8JsonWriter writer, string name, double value)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumber(name, value);
            }
            else
            {
                writer.WriteString(name, NonFiniteName(value));
            }
        }
    }

    private static string Truncate(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        // Never split a surrogate pair: half a character is not valid text.
        var cut = char.IsHighSurrogate(text[length - 1]) ? length - 1 : length;
        return text[..cut];
    }

    private struct PendingRow
    {
        public DateTime Local;
        public DateTimeOffset Stored;
        public string Identifier;
        public double Temperature;
        public double Humidity;
        public double Pressure;
        public string? ClientReason;
        public RowOutcome Outcome;
        public string? Reason;
    }

    private sealed record DeadLetter(DateTime ReceivedAt, string Topic, ReadOnlyMemory<byte> Payload, string Reason);

    private sealed record SchemaState(bool TableExists, bool RejectedTableExists, IReadOnlyList<string> MissingColumns);
}
