using System.Globalization;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Dashboard;

/// <summary>A row as a test writes it: the instant and the values as stored (rounded to 2 decimals).</summary>
public sealed record TestRow(string Identifier, Instant Utc, double Temperature, double Humidity, double Pressure);

/// <summary>
/// One test's own database (MariaDB or SQLite) with the tables of the current schema, the rows the test writes, their
/// 5-minute summaries, and the SQL that says what the read side must answer: each expectation is computed by the
/// database from the rows themselves, never from the summaries and never by the code under test.
/// </summary>
public abstract class ReadSideStore : IAsyncDisposable
{
    /// <summary>1970-01-05, the Monday the documented bucket alignment counts from.</summary>
    public const long WeekOrigin = 4 * 86_400;

    /// <summary>Gets the store with the raw database access.</summary>
    public abstract RepositoryStore Store { get; }

    /// <summary>Lets the repository create its tables (SCHEMA.md's), optionally dropping the summary table again.</summary>
    public async Task CreateTablesAsync(string table = "Ambient", bool summaries = true)
    {
        await Repository("UTC", table).EnsureSchemaAsync();
        if (!summaries)
        {
            await Store.ExecuteAsync($"DROP TABLE {Quoted(table + "_5m")}");
        }
    }

    /// <summary>Creates a table of the first schema (no <c>timestamp_utc</c>).</summary>
    public abstract Task CreateFirstSchemaTableAsync(string table = "Ambient");

    /// <summary>Writes rows through the repository (<see cref="IAmbientRepository.WriteBatchAsync"/>, which keeps the
    /// summaries in the same transaction), in batches of 500 as the ingest does.</summary>
    public async Task InsertAsync(IReadOnlyList<TestRow> rows, string zone, string table = "Ambient")
    {
        var repository = Repository(zone, table);
        foreach (var batch in rows.Chunk(500))
        {
            var result = await repository.WriteBatchAsync(
                [.. batch.Select(r => new AmbientReading(r.Utc, r.Temperature, r.Humidity, r.Pressure, r.Identifier))],
                []);
            result.Inserted.Should().Be(batch.Length, "every test row is new");
        }
    }

    /// <summary>Quotes a table name for this database.</summary>
    protected abstract string Quoted(string table);

    private IAmbientRepository Repository(string zone, string table) =>
        Store.Create(new RepositorySettings { TimeZone = zone, Table = table });

    /// <summary>Makes a reader on this database.</summary>
    public abstract IAmbientReader CreateReader(string zone, string table = "Ambient");

    /// <summary>
    /// What SQL computes from the rows of <c>[from, to)</c> in buckets of <paramref name="width"/> seconds aligned to
    /// <paramref name="offset"/>: identifier, bucket start (unix seconds), count, then min, avg, max of each quantity,
    /// ordered by identifier and bucket.
    /// </summary>
    public async Task<List<ExpectedBucket>> ExpectedBucketsAsync(Instant from, Instant to, long width, long offset, string? node = null, string table = "Ambient")
    {
        var rows = await Store.QueryAsync(BucketsSql(table, UtcText(from), UtcText(to), width, offset, node));
        return rows.Select(r => new ExpectedBucket(
            (string)r[0],
            (Convert.ToInt64(r[1], CultureInfo.InvariantCulture) * width) + WeekOrigin - offset,
            Convert.ToInt64(r[2], CultureInfo.InvariantCulture),
            [.. Enumerable.Range(0, 9).Select(i => Convert.ToDouble(r[3 + i], CultureInfo.InvariantCulture))])).ToList();
    }

    /// <summary>The rows of <c>[from, to)</c> as SQL orders them (time, then insertion): the table's own wall-clock
    /// <c>timestamp</c> as <c>yyyy-MM-ddTHH:mm:ss.ffffff</c>, the UTC time as unix microseconds, identifier, values.</summary>
    public async Task<List<(string Local, long UtcMicroseconds, string Identifier, double T, double H, double P)>> ExpectedRowsAsync(Instant from, Instant to, string? node = null, string table = "Ambient")
    {
        var rows = await Store.QueryAsync(RowsSql(table, UtcText(from), UtcText(to), node));
        return rows.Select(r => (
            (string)r[0],
            Convert.ToInt64(r[1], CultureInfo.InvariantCulture),
            (string)r[2],
            Convert.ToDouble(r[3], CultureInfo.InvariantCulture),
            Convert.ToDouble(r[4], CultureInfo.InvariantCulture),
            Convert.ToDouble(r[5], CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>Each node's latest row by SQL: identifier, UTC time as unix microseconds, ordered by identifier.</summary>
    public async Task<List<(string Identifier, long UtcMicroseconds)>> ExpectedLatestAsync(string table = "Ambient")
    {
        var rows = await Store.QueryAsync(LatestSql(table));
        return rows.Select(r => ((string)r[0], Convert.ToInt64(r[1], CultureInfo.InvariantCulture)))
            .OrderBy(r => r.Item1, StringComparer.Ordinal).ToList();
    }

    public virtual ValueTask DisposeAsync() => Store.DisposeAsync();

    /// <summary>Rows every <paramref name="step"/> for each node over <c>[from, from + length)</c>, values from a fixed
    /// seed and rounded to 2 decimals; a node whose name is in <paramref name="silent"/> sends nothing in that stretch.</summary>
    public static List<TestRow> Generate(Instant from, Duration length, Duration step, string[] nodes, (string Node, Instant From, Instant To)? silent = null, int seed = 7)
    {
        var random = new Random(seed);
        var rows = new List<TestRow>();
        for (var t = from; t < from + length; t += step)
        {
            for (var n = 0; n < nodes.Length; n++)
            {
                // Each node a little apart from the others, as real nodes are.
                var at = t + Duration.FromMilliseconds((n * 1370) + random.Next(0, 900)) + Duration.FromTicks(random.Next(0, 10) * 10);
                if (silent is { } s && s.Node == nodes[n] && at >= s.From && at < s.To)
                {
                    continue;
                }

                rows.Add(new TestRow(
                    nodes[n],
                    at,
                    Math.Round(15 + (n * 4) + (random.NextDouble() * 10), 2),
                    Math.Round(30 + (random.NextDouble() * 50), 2),
                    Math.Round(990 + (random.NextDouble() * 40), 2)));
            }
        }

        return rows;
    }

    /// <summary>UTC as the tables hold it.</summary>
    protected static string UtcText(Instant instant) =>
        instant.ToDateTimeUtc().ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffff", CultureInfo.InvariantCulture);

    protected static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    protected abstract string BucketsSql(string table, string from, string to, long width, long offset, string? node);

    protected abstract string RowsSql(string table, string from, string to, string? node);

    protected abstract string LatestSql(string table);
}

/// <summary>A bucket as SQL computes it from the rows.</summary>
/// <param name="Identifier">The node.</param>
/// <param name="Start">Unix seconds.</param>
/// <param name="Count">Rows.</param>
/// <param name="Values">Min, avg, max of temperature, then of humidity, then of pressure.</param>
public sealed record ExpectedBucket(string Identifier, long Start, long Count, double[] Values);

/// <summary>MariaDB: a database of the test's own on the shared server.</summary>
public sealed class MariaDbReadSideStore(MariaDbStore store) : ReadSideStore
{
    public override RepositoryStore Store => store;

    public TestDatabase Database => store.Database;

    public static async Task<MariaDbReadSideStore> CreateAsync(MariaDbFixture fixture, CancellationToken cancellationToken) =>
        new(await MariaDbStore.CreateAsync(fixture, cancellationToken));

    public override Task CreateFirstSchemaTableAsync(string table = "Ambient") => store.ExecuteAsync(
        $"CREATE TABLE `{table}` (row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, timestamp DATETIME(6) NOT NULL, identifier VARCHAR(64) NOT NULL, temperature DOUBLE, humidity DOUBLE, pressure DOUBLE, UNIQUE KEY ux_identifier_timestamp (identifier, timestamp)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");

    protected override string Quoted(string table) => "`" + table + "`";

    public override IAmbientReader CreateReader(string zone, string table = "Ambient") =>
        new MariaDbAmbientReader(store.Database.DataSource, new MariaDbRepositoryOptions { TimeZone = zone, Table = table });

    protected override string BucketsSql(string table, string from, string to, long width, long offset, string? node) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            SELECT identifier, FLOOR((TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', timestamp_utc) + {offset} - {WeekOrigin}) / {width}) AS k, COUNT(*),
              MIN(temperature), AVG(temperature), MAX(temperature), MIN(humidity), AVG(humidity), MAX(humidity), MIN(pressure), AVG(pressure), MAX(pressure)
            FROM `{table}` WHERE timestamp_utc >= '{from}' AND timestamp_utc < '{to}'{(node is null ? string.Empty : " AND identifier = " + Quote(node))}
            GROUP BY identifier, k ORDER BY identifier, k
            """);

    protected override string RowsSql(string table, string from, string to, string? node) =>
        $"""
        SELECT DATE_FORMAT(timestamp, '%Y-%m-%dT%H:%i:%s.%f'), TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', timestamp_utc), identifier, temperature, humidity, pressure
        FROM `{table}` WHERE timestamp_utc >= '{from}' AND timestamp_utc < '{to}'{(node is null ? string.Empty : " AND identifier = " + Quote(node))}
        ORDER BY timestamp_utc, row_id
        """;

    protected override string LatestSql(string table) =>
        $"SELECT identifier, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MAX(timestamp_utc)) FROM `{table}` GROUP BY identifier";
}

/// <summary>SQLite: a file of the test's own.</summary>
public sealed class SqliteReadSideStore : ReadSideStore
{
    private readonly SqliteStore _store = new();
    private readonly List<SqliteAmbientReader> _readers = [];

    public override RepositoryStore Store => _store;

    public string DatabasePath => _store.DatabasePath;

    public override Task CreateFirstSchemaTableAsync(string table = "Ambient") => _store.ExecuteAsync(
        $"CREATE TABLE \"{table}\" (row_id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL, identifier TEXT NOT NULL, temperature REAL, humidity REAL, pressure REAL, CONSTRAINT ux_identifier_timestamp UNIQUE (identifier, timestamp))");

    protected override string Quoted(string table) => "\"" + table + "\"";

    public override IAmbientReader CreateReader(string zone, string table = "Ambient")
    {
        var reader = new SqliteAmbientReader(new SqliteRepositoryOptions { Path = _store.DatabasePath, TimeZone = zone, Table = table });
        _readers.Add(reader);
        return reader;
    }

    protected override string BucketsSql(string table, string from, string to, long width, long offset, string? node) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            SELECT identifier, (CAST(strftime('%s', timestamp_utc) AS INTEGER) + {offset} - {WeekOrigin}) / {width} AS k, COUNT(*),
              MIN(temperature), AVG(temperature), MAX(temperature), MIN(humidity), AVG(humidity), MAX(humidity), MIN(pressure), AVG(pressure), MAX(pressure)
            FROM "{table}" WHERE timestamp_utc >= '{from}' AND timestamp_utc < '{to}'{(node is null ? string.Empty : " AND identifier = " + Quote(node))}
            GROUP BY identifier, k ORDER BY identifier, k
            """);

    protected override string RowsSql(string table, string from, string to, string? node) =>
        $"""
        SELECT replace(timestamp, ' ', 'T'), CAST(strftime('%s', timestamp_utc) AS INTEGER) * 1000000 + CAST(substr(timestamp_utc, 21, 6) AS INTEGER), identifier, temperature, humidity, pressure
        FROM "{table}" WHERE timestamp_utc >= '{from}' AND timestamp_utc < '{to}'{(node is null ? string.Empty : " AND identifier = " + Quote(node))}
        ORDER BY timestamp_utc, row_id
        """;

    protected override string LatestSql(string table) =>
        $"SELECT identifier, CAST(strftime('%s', MAX(timestamp_utc)) AS INTEGER) * 1000000 + CAST(substr(MAX(timestamp_utc), 21, 6) AS INTEGER) FROM \"{table}\" GROUP BY identifier";

    public override async ValueTask DisposeAsync()
    {
        foreach (var reader in _readers)
        {
            reader.Dispose();
        }

        await _store.DisposeAsync();
    }
}
