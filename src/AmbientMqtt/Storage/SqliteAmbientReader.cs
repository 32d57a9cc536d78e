using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using AmbientMqtt.Logging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>
/// Reads the SQLite file of <see cref="SqliteAmbientRepository"/> and its 5-minute summaries: the nodes, buckets of a
/// range, and the rows of a range, streamed. It opens the file read-only (WAL mode lets it read while the repository
/// writes), with only <c>SELECT</c> statements and every value a parameter.
/// </summary>
/// <remarks>It needs the current schema (the <c>timestamp_utc</c> column); a table of the first version is refused with
/// a message that says so. Without the summary table it computes everything from the rows, more slowly. Dispose it to
/// close its pooled connections.</remarks>
public sealed class SqliteAmbientReader : IAmbientReader, IDisposable
{
    private const string RowTimeFormat = "yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffff";
    private const string BucketTimeFormat = "yyyy'-'MM'-'dd' 'HH':'mm':'ss";

    private const string Quantities =
        "COUNT(temperature), SUM(temperature), MIN(temperature), MAX(temperature), "
        + "COUNT(humidity), SUM(humidity), MIN(humidity), MAX(humidity), "
        + "COUNT(pressure), SUM(pressure), MIN(pressure), MAX(pressure)";

    private const string SummaryQuantities =
        "SUM(readings), SUM(temperature_sum), MIN(temperature_min), MAX(temperature_max), "
        + "SUM(readings), SUM(humidity_sum), MIN(humidity_min), MAX(humidity_max), "
        + "SUM(readings), SUM(pressure_sum), MIN(pressure_min), MAX(pressure_max)";

    private static readonly string[] RowColumns = ["timestamp_utc", "identifier", "temperature", "humidity", "pressure"];
    private static readonly string[] SummaryColumns =
    [
        "identifier", "bucket_utc", "readings",
        "temperature_sum", "temperature_min", "temperature_max",
        "humidity_sum", "humidity_min", "humidity_max",
        "pressure_sum", "pressure_min", "pressure_max",
    ];

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly DateTimeZone _zone;
    private readonly string _table;
    private readonly string _summaryTable;
    private readonly string _quotedTable;
    private readonly string _quotedSummaryTable;
    private readonly SchemaCheck<SqliteConnection> _schema;
    private int _summaryWarned;
    private bool _disposed;

    /// <summary>Initializes a reader. Nothing is opened until the first call.</summary>
    /// <param name="options">The repository's settings; the file, table and time zone are used.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">A setting is wrong; the message names its key.</exception>
    public SqliteAmbientReader(SqliteRepositoryOptions options, ILogger<SqliteAmbientReader>? logger = null)
    {
        OptionsCheck.ThrowIfInvalid(SqliteRepositoryOptionsValidator.Instance, options);

        DatabasePath = options.FullPath();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _zone = DateTimeZoneProviders.Tzdb[options.TimeZone];
        TimeZone = options.TimeZone;
        _table = options.Table;
        _summaryTable = options.Table + "_5m";
        _quotedTable = "\"" + _table + "\"";
        _quotedSummaryTable = "\"" + _summaryTable + "\"";
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
        _schema = new SchemaCheck<SqliteConnection>(InspectAsync);
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Gets the name of the table read.</summary>
    public string Table => _table;

    /// <inheritdoc/>
    public string TimeZone { get; }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<AmbientNode>> GetNodesAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await _schema.RequireAsync(connection, cancellationToken).ConfigureAwait(false);
                using var command = connection.CreateCommand();

                // SQLite has no loose index scan: walk the unique index (identifier, timestamp_utc) from one identifier to
                // the next, one probe each, then take each node's last row, one probe each.
                command.CommandText =
                    $"""
                    WITH RECURSIVE ids(id) AS (
                      SELECT (SELECT MIN(identifier) FROM {_quotedTable})
                      UNION ALL
                      SELECT (SELECT MIN(identifier) FROM {_quotedTable} WHERE identifier > ids.id) FROM ids WHERE ids.id IS NOT NULL)
                    SELECT t.timestamp_utc, t.identifier, t.temperature, t.humidity, t.pressure
                    FROM ids JOIN {_quotedTable} AS t
                      ON t.rowid = (SELECT rowid FROM {_quotedTable} WHERE identifier = ids.id ORDER BY timestamp_utc DESC LIMIT 1)
                    WHERE ids.id IS NOT NULL
                    """;
                var nodes = new List<AmbientNode>();
                var zone = new ZoneOffsets(_zone);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    var row = ReadRow(reader, zone);
                    nodes.Add(new AmbientNode(row.Identifier, row));
                }

                nodes.Sort((a, b) => string.CompareOrdinal(a.Identifier, b.Identifier));
                return nodes;
            }
        }
        catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Wrap(ex, "reading the nodes");
        }
    }

    /// <inheritdoc/>
    public async Task<ReadingBuckets> GetBucketsAsync(
        DateTimeOffset rangeStart,
        DateTimeOffset rangeEnd,
        int points,
        string? node = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (start, end) = ReadArguments.Range(rangeStart, rangeEnd);
        ReadArguments.Points(points);
        ReadArguments.Node(node);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var schema = await _schema.RequireAsync(connection, cancellationToken).ConfigureAwait(false);
                var plan = BucketPlan.Create(start, end, points, _zone, schema.SummariesPresent);
                var (constant, shift) = plan.IntegerKey(0);
                var accumulator = new BucketAccumulator();
                var nodeFilter = node is null ? string.Empty : " AND identifier = $node";

                // The key is an integer division of non-negative integers (see BucketPlan.IntegerKey). unixepoch() drops
                // the fraction of a second, which changes no bucket.
                foreach (var (partFrom, partTo) in plan.RowRanges)
                {
                    Accumulate(
                        connection,
                        accumulator,
                        $"SELECT identifier, (unixepoch(timestamp_utc) + $constant) / $width - $shift, COUNT(*), {Quantities} "
                        + $"FROM {_quotedTable} WHERE timestamp_utc >= $from AND timestamp_utc < $to{nodeFilter} GROUP BY 1, 2",
                        Format(partFrom, RowTimeFormat),
                        Format(partTo, RowTimeFormat),
                        constant,
                        shift,
                        plan.WidthSeconds,
                        node,
                        cancellationToken);
                }

                if (plan.SummaryFrom is { } summaryFrom && plan.SummaryTo is { } summaryTo)
                {
                    Accumulate(
                        connection,
                        accumulator,
                        $"SELECT identifier, (unixepoch(bucket_utc) + $constant) / $width - $shift, SUM(readings), {SummaryQuantities} "
                        + $"FROM {_quotedSummaryTable} WHERE bucket_utc >= $from AND bucket_utc < $to{nodeFilter} GROUP BY 1, 2",
                        Format(summaryFrom, BucketTimeFormat),
                        Format(summaryTo, BucketTimeFormat),
                        constant,
                        shift,
                        plan.WidthSeconds,
                        node,
                        cancellationToken);
                }

                var buckets = accumulator.ToBuckets(plan, _zone);
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    Log.BucketsRead(_logger, _table, rangeStart, rangeEnd, plan.WidthSeconds, buckets.Count, plan.UsesSummaries, elapsed);
                }

                return new ReadingBuckets(
                    start.InZone(_zone).ToDateTimeOffset(),
                    end.InZone(_zone).ToDateTimeOffset(),
                    TimeSpan.FromSeconds(plan.WidthSeconds),
                    plan.UsesSummaries,
                    buckets);
            }
        }
        catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Wrap(ex, "reading the buckets");
        }
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<StoredReading> ReadRowsAsync(
        DateTimeOffset rangeStart,
        DateTimeOffset rangeEnd,
        string? node = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (start, end) = ReadArguments.Range(rangeStart, rangeEnd);
        ReadArguments.Node(node);
        return ReadRowsCoreAsync(start, end, node, cancellationToken);
    }

    /// <summary>Closes the reader's pooled connections.</summary>
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

    private async IAsyncEnumerable<StoredReading> ReadRowsCoreAsync(Instant from, Instant to, string? node, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        SqliteConnection? connection = null;
        SqliteCommand? command = null;
        SqliteDataReader? reader = null;
        try
        {
            try
            {
                connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                await _schema.RequireAsync(connection, cancellationToken).ConfigureAwait(false);
                command = connection.CreateCommand();

                // Index order, (timestamp_utc, rowid) for all nodes and (identifier, timestamp_utc) for one: no sort, and
                // each row is read from the file as it is handed on.
                command.CommandText =
                    $"SELECT timestamp_utc, identifier, temperature, humidity, pressure FROM {_quotedTable} WHERE timestamp_utc >= $from AND timestamp_utc < $to"
                    + (node is null ? " ORDER BY timestamp_utc, rowid" : " AND identifier = $node ORDER BY timestamp_utc");
                command.Parameters.Add("$from", SqliteType.Text).Value = Format(from, RowTimeFormat);
                command.Parameters.Add("$to", SqliteType.Text).Value = Format(to, RowTimeFormat);
                if (node is not null)
                {
                    command.Parameters.Add("$node", SqliteType.Text).Value = node;
                }

                reader = command.ExecuteReader();
            }
            catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw Wrap(ex, "reading the rows");
            }

            var zone = new ZoneOffsets(_zone);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool more;
                try
                {
                    more = reader.Read();
                }
                catch (SqliteException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw Wrap(ex, "reading the rows");
                }

                if (!more)
                {
                    break;
                }

                yield return ReadRow(reader, zone);
            }
        }
        finally
        {
            if (reader is not null)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }

            command?.Dispose();
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static void Accumulate(
        SqliteConnection connection,
        BucketAccumulator accumulator,
        string sql,
        string from,
        string to,
        long constant,
        long shift,
        long width,
        string? node,
        CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add("$from", SqliteType.Text).Value = from;
        command.Parameters.Add("$to", SqliteType.Text).Value = to;
        command.Parameters.Add("$constant", SqliteType.Integer).Value = constant;
        command.Parameters.Add("$width", SqliteType.Integer).Value = width;
        command.Parameters.Add("$shift", SqliteType.Integer).Value = shift;
        if (node is not null)
        {
            command.Parameters.Add("$node", SqliteType.Text).Value = node;
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            accumulator.Add(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), Quantity(reader, 3), Quantity(reader, 7), Quantity(reader, 11));
        }
    }

    private static BucketAccumulator.Quantity Quantity(SqliteDataReader reader, int column)
    {
        var count = reader.GetInt64(column);
        return count == 0 || reader.IsDBNull(column + 1)
            ? default
            : new BucketAccumulator.Quantity(count, reader.GetDouble(column + 1), reader.GetDouble(column + 2), reader.GetDouble(column + 3));
    }

    private static StoredReading ReadRow(SqliteDataReader reader, ZoneOffsets zone) => new(
        zone.ToZoned(ParseUtc(reader.GetString(0))),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetDouble(2),
        reader.IsDBNull(3) ? null : reader.GetDouble(3),
        reader.IsDBNull(4) ? null : reader.GetDouble(4));

    /// <summary>Parses <c>yyyy-MM-dd HH:mm:ss[.ffffff]</c> digit by digit: the CSV export of a year parses millions.</summary>
    private static DateTime ParseUtc(string text)
    {
        if (text.Length >= 19 && text[4] == '-' && text[7] == '-' && text[10] == ' ' && text[13] == ':' && text[16] == ':')
        {
            var ticks = 0L;
            var fraction = 0;
            if (text.Length > 20 && text[19] == '.')
            {
                var digits = 0;
                for (var i = 20; i < text.Length && digits < 7; i++, digits++)
                {
                    fraction = (fraction * 10) + Digit(text[i]);
                }

                for (; digits < 7; digits++)
                {
                    fraction *= 10;
                }

                ticks = fraction;
            }

            return new DateTime(
                Number(text, 0, 4), Number(text, 5, 2), Number(text, 8, 2),
                Number(text, 11, 2), Number(text, 14, 2), Number(text, 17, 2),
                DateTimeKind.Utc).AddTicks(ticks);
        }

        return DateTime.SpecifyKind(DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), DateTimeKind.Utc);

        static int Number(string s, int start, int length)
        {
            var value = 0;
            for (var i = start; i < start + length; i++)
            {
                value = (value * 10) + Digit(s[i]);
            }

            return value;
        }

        static int Digit(char c) => c is >= '0' and <= '9' ? c - '0' : throw new FormatException($"'{c}' in a stored time is not a digit");
    }

    private static string Format(Instant instant, string format) =>
        instant.ToDateTimeUtc().ToString(format, CultureInfo.InvariantCulture);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(DatabasePath))
        {
            throw new AmbientStorageException($"SQLite database {DatabasePath} does not exist (yet): the program that stores the readings creates it; check Database:Path.") { IsTransient = true };
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private Task<SchemaState> InspectAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info($table); SELECT name FROM pragma_table_info($summary);";
        command.Parameters.AddWithValue("$table", _table);
        command.Parameters.AddWithValue("$summary", _summaryTable);
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var summaryColumns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }

            reader.NextResult();
            while (reader.Read())
            {
                summaryColumns.Add(reader.GetString(0));
            }
        }

        if (columns.Count == 0)
        {
            throw new AmbientStorageException($"SQLite database {DatabasePath}: table {_table} does not exist (yet): the program that stores the readings creates it; check Database:Table.") { IsTransient = true };
        }

        var missing = RowColumns.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new AmbientStorageException(
                $"SQLite database {DatabasePath}: table {_table} has no column {string.Join(", ", missing)}: it is of an earlier schema. The read side needs the current one; upgrade the table as the program that stores the readings says at start-up.");
        }

        var summaries = SummaryColumns.All(summaryColumns.Contains);
        if (!summaries && Interlocked.Exchange(ref _summaryWarned, 1) == 0)
        {
            Log.SummaryTableMissing(_logger, _table, _summaryTable);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new SchemaState(summaries));
    }

    private AmbientStorageException Wrap(SqliteException ex, string action)
    {
        // Busy, locked or an I/O error may pass; anything else needs a person (a file that is not a database, say).
        var transient = ex.SqliteErrorCode is 5 or 6 or 10;
        return new AmbientStorageException($"SQLite database {DatabasePath}: {action} failed: {ex.Message.TrimEnd('.')}", ex) { IsTransient = transient };
    }
}
