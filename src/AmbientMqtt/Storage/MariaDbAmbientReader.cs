using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>
/// Reads the table of <see cref="MariaDbAmbientRepository"/> and its 5-minute summaries: the nodes, buckets of a range
/// (summarised by the server, so only the buckets travel), and the rows of a range, streamed. Only <c>SELECT</c>
/// statements, with every value a parameter; a user with <c>GRANT SELECT</c> on the database is all it needs.
/// </summary>
/// <remarks>It needs the current schema (the <c>timestamp_utc</c> column); a table of the first version is refused with
/// a message that says so. Without the summary table it computes everything from the rows, more slowly.</remarks>
public sealed class MariaDbAmbientReader : IAmbientReader
{
    // TO_SECONDS counts from year 0: this is TO_SECONDS('1970-01-01').
    private const long ToSecondsOfEpoch = 62_167_219_200;

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

    private readonly MySqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly DateTimeZone _zone;
    private readonly string _table;
    private readonly string _summaryTable;
    private readonly string _quotedTable;
    private readonly string _quotedSummaryTable;
    private readonly string _endpoint;
    private readonly string? _password;
    private readonly SchemaCheck<MySqlConnection> _schema;
    private int _summaryWarned;

    /// <summary>Initializes a reader. Nothing is opened until the first call.</summary>
    /// <param name="dataSource">Where connections come from (the repository's, or one of a <c>SELECT</c>-only user).</param>
    /// <param name="options">The repository's settings; the table and time zone are used.</param>
    /// <param name="logger">Where to log; none by default.</param>
    /// <exception cref="ArgumentException">A setting is wrong; the message names its key.</exception>
    public MariaDbAmbientReader(MySqlDataSource dataSource, MariaDbRepositoryOptions options, ILogger<MariaDbAmbientReader>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        OptionsCheck.ThrowIfInvalid(MariaDbRepositoryOptionsValidator.Instance, options);

        _dataSource = dataSource;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _zone = DateTimeZoneProviders.Tzdb[options.TimeZone];
        TimeZone = options.TimeZone;
        _table = options.Table;
        _summaryTable = options.Table + "_5m";
        _quotedTable = "`" + _table + "`";
        _quotedSummaryTable = "`" + _summaryTable + "`";
        _endpoint = MariaDbEndpoint.Describe(dataSource.ConnectionString);
        _password = MariaDbEndpoint.Password(dataSource.ConnectionString);
        _schema = new SchemaCheck<MySqlConnection>(InspectAsync);
    }

    /// <inheritdoc/>
    public string TimeZone { get; }

    /// <summary>Gets the name of the table read.</summary>
    public string Table => _table;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<AmbientNode>> GetNodesAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await _schema.RequireAsync(connection, cancellationToken).ConfigureAwait(false);

                // The unique key on (identifier, timestamp_utc) makes both the inner GROUP BY (a loose index scan: one
                // probe per node) and the join back (one lookup per node) cheap, however many rows there are.
                using var command = new MySqlCommand(
                    $"SELECT t.timestamp_utc, t.identifier, t.temperature, t.humidity, t.pressure "
                    + $"FROM (SELECT identifier, MAX(timestamp_utc) AS latest FROM {_quotedTable} GROUP BY identifier) AS l "
                    + $"JOIN {_quotedTable} AS t ON t.identifier = l.identifier AND t.timestamp_utc = l.latest "
                    + "ORDER BY t.identifier",
                    connection);
                var nodes = new List<AmbientNode>();
                var zone = new ZoneOffsets(_zone);
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var row = ReadRow(reader, zone);
                        nodes.Add(new AmbientNode(row.Identifier, row));
                    }
                }

                // The database orders by its collation (binary); this keeps the documented order whatever the server.
                nodes.Sort((a, b) => string.CompareOrdinal(a.Identifier, b.Identifier));
                return nodes;
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
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
        var (start, end) = ReadArguments.Range(rangeStart, rangeEnd);
        ReadArguments.Points(points);
        ReadArguments.Node(node);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var schema = await _schema.RequireAsync(connection, cancellationToken).ConfigureAwait(false);
                var plan = BucketPlan.Create(start, end, points, _zone, schema.SummariesPresent);
                using var command = BucketCommand(connection, plan, node);
                var accumulator = new BucketAccumulator();
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    do
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            accumulator.Add(
                                reader.GetString(0),
                                reader.GetInt64(1),
                                Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                                Quantity(reader, 3),
                                Quantity(reader, 7),
                                Quantity(reader, 11));
                        }
                    }
                    while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
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
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
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
        var (start, end) = ReadArguments.Range(rangeStart, rangeEnd);
        ReadArguments.Node(node);
        return ReadRowsCoreAsync(start, end, node, cancellationToken);
    }

    private async IAsyncEnumerable<StoredReading> ReadRowsCoreAsync(Instant from, Instant to, string? node, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        MySqlConnection? connection = null;
        MySqlCommand? command = null;
        MySqlDataReader? reader = null;
        try
        {
            try
            {
                connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await _schema.RequireAsync(connection, cancellationToken).ConfigureAwait(false);

                // In index order, (timestamp_utc, row_id) for all nodes and (identifier, timestamp_utc) for one: the rows
                // come as the server reads them, with no sort first and nothing held back on either side.
                command = new MySqlCommand(
                    $"SELECT timestamp_utc, identifier, temperature, humidity, pressure FROM {_quotedTable} "
                    + "WHERE timestamp_utc >= @from AND timestamp_utc < @to"
                    + (node is null ? " ORDER BY timestamp_utc, row_id" : " AND identifier = @node ORDER BY timestamp_utc"),
                    connection);
                command.Parameters.Add("@from", MySqlDbType.DateTime).Value = from.ToDateTimeUtc();
                command.Parameters.Add("@to", MySqlDbType.DateTime).Value = to.ToDateTimeUtc();
                if (node is not null)
                {
                    command.Parameters.Add("@node", MySqlDbType.VarChar).Value = node;
                }

                reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
            {
                throw Wrap(ex, "reading the rows");
            }

            var zone = new ZoneOffsets(_zone);
            while (true)
            {
                bool more;
                try
                {
                    more = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && MariaDbErrors.IsDatabaseFailure(ex))
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

    private MySqlCommand BucketCommand(MySqlConnection connection, BucketPlan plan, string? node)
    {
        var (constant, shift) = plan.IntegerKey(ToSecondsOfEpoch);
        var command = new MySqlCommand { Connection = connection };
        var nodeFilter = node is null ? string.Empty : " AND identifier = @node";

        // The key is an integer division of non-negative integers (see BucketPlan.IntegerKey); "- @shift" makes it the
        // plan's key. GROUP BY without the implicit sort: the buckets are merged and ordered here.
        var key = "(TO_SECONDS({0}) + @constant) DIV @width - @shift";
        var text = new System.Text.StringBuilder();
        var part = 0;
        foreach (var (from, to) in plan.RowRanges)
        {
            text.Append(CultureInfo.InvariantCulture, $"SELECT identifier, {string.Format(CultureInfo.InvariantCulture, key, "timestamp_utc")}, COUNT(*), {Quantities} ")
                .Append(CultureInfo.InvariantCulture, $"FROM {_quotedTable} WHERE timestamp_utc >= @from{part} AND timestamp_utc < @to{part}{nodeFilter} GROUP BY 1, 2 ORDER BY NULL;\n");
            command.Parameters.Add($"@from{part}", MySqlDbType.DateTime).Value = from.ToDateTimeUtc();
            command.Parameters.Add($"@to{part}", MySqlDbType.DateTime).Value = to.ToDateTimeUtc();
            part++;
        }

        if (plan.SummaryFrom is { } summaryFrom && plan.SummaryTo is { } summaryTo)
        {
            text.Append(CultureInfo.InvariantCulture, $"SELECT identifier, {string.Format(CultureInfo.InvariantCulture, key, "bucket_utc")}, SUM(readings), {SummaryQuantities} ")
                .Append(CultureInfo.InvariantCulture, $"FROM {_quotedSummaryTable} WHERE bucket_utc >= @summaryFrom AND bucket_utc < @summaryTo{nodeFilter} GROUP BY 1, 2 ORDER BY NULL;\n");
            command.Parameters.Add("@summaryFrom", MySqlDbType.DateTime).Value = summaryFrom.ToDateTimeUtc();
            command.Parameters.Add("@summaryTo", MySqlDbType.DateTime).Value = summaryTo.ToDateTimeUtc();
        }

        command.CommandText = text.ToString();
        command.Parameters.Add("@constant", MySqlDbType.Int64).Value = constant;
        command.Parameters.Add("@width", MySqlDbType.Int64).Value = plan.WidthSeconds;
        command.Parameters.Add("@shift", MySqlDbType.Int64).Value = shift;
        if (node is not null)
        {
            command.Parameters.Add("@node", MySqlDbType.VarChar).Value = node;
        }

        return command;
    }

    private static BucketAccumulator.Quantity Quantity(MySqlDataReader reader, int column)
    {
        var count = Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);
        return count == 0 || reader.IsDBNull(column + 1)
            ? default
            : new BucketAccumulator.Quantity(count, reader.GetDouble(column + 1), reader.GetDouble(column + 2), reader.GetDouble(column + 3));
    }

    private static StoredReading ReadRow(MySqlDataReader reader, ZoneOffsets zone) => new(
        zone.ToZoned(reader.GetDateTime(0)),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetDouble(2),
        reader.IsDBNull(3) ? null : reader.GetDouble(3),
        reader.IsDBNull(4) ? null : reader.GetDouble(4));

    private async Task<SchemaState> InspectAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        // information_schema compares table names without regard to case on some servers: compared exactly here.
        using var command = new MySqlCommand(
            "SELECT DATABASE(); SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (@table, @summary)",
            connection);
        command.Parameters.AddWithValue("@table", _table);
        command.Parameters.AddWithValue("@summary", _summaryTable);
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var summaryColumns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string? database;
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            database = reader.IsDBNull(0) ? null : reader.GetString(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var table = reader.GetString(0);
                if (string.Equals(table, _table, StringComparison.Ordinal))
                {
                    columns.Add(reader.GetString(1));
                }
                else if (string.Equals(table, _summaryTable, StringComparison.Ordinal))
                {
                    summaryColumns.Add(reader.GetString(1));
                }
            }
        }

        if (database is null)
        {
            throw new AmbientStorageException($"MariaDB at {_endpoint}: the connection string names no database (Database=...).");
        }

        if (columns.Count == 0)
        {
            throw new AmbientStorageException($"MariaDB at {_endpoint}: table `{_table}` does not exist (yet): the program that stores the readings creates it; check Database:Table.") { IsTransient = true };
        }

        var missing = RowColumns.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new AmbientStorageException(
                $"MariaDB at {_endpoint}: table `{_table}` has no column {string.Join(", ", missing)}: it is of an earlier schema. The read side needs the current one; upgrade the table as the program that stores the readings says at start-up.");
        }

        var summaries = SummaryColumns.All(summaryColumns.Contains);
        if (!summaries && Interlocked.Exchange(ref _summaryWarned, 1) == 0)
        {
            Log.SummaryTableMissing(_logger, _table, _summaryTable);
        }

        return new SchemaState(summaries);
    }

    private AmbientStorageException Wrap(Exception exception, string action) =>
        exception as AmbientStorageException ?? MariaDbErrors.Wrap(exception, MariaDbErrors.IsTransient(exception), _endpoint, _password, action);
}
