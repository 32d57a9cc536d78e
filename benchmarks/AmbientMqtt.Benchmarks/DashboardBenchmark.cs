using System.Diagnostics;
using System.Globalization;
using AmbientMqtt.Dashboard;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// The dashboard at scale (issue 11, item 5): 10 nodes × 30 days of one reading per 5 s (5,184,000 rows) with their
/// 5-minute summaries, in a private MariaDB and in a SQLite file, each behind its own dashboard on loopback. Measures
/// the requests the page makes, end to end over HTTP (request → last byte of the answer), MariaDB and SQLite
/// interleaved in one series: the 30-day view, the 24-hour view, and the CSV of a day streamed.
/// </summary>
/// <remarks>The tables are filled with bulk SQL (the schema of SCHEMA.md, the summaries computed from the rows), not
/// through the ingest: filling 5 million rows reading by reading would take hours and measures nothing of the read
/// side.</remarks>
internal static class DashboardBenchmark
{
    private const int Nodes = 10;
    private const int StepSeconds = 5;
    private const int Days = 30;
    private const int ReadingsPerDay = 86_400 / StepSeconds;

    // The data ends here; the views end at an unaligned "now" shortly before, as the page's do.
    private static readonly DateTime DataStart = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset Now = new(2025, 1, 30, 23, 58, 17, 250, TimeSpan.Zero);

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = 20;
        var csvRuns = 5;
        var bufferPool = 128;
        string? mariadb = null;
        string? sqlitePath = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--csv-runs": csvRuns = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--buffer-pool-mb": bufferPool = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--mariadb": mariadb = args[++i]; break;
                case "--sqlite": sqlitePath = args[++i]; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        await using var ownDatabase = mariadb is null ? await PrivateMariaDb.StartNewAsync() : null;
        var server = mariadb ?? ownDatabase!.ConnectionString;
        var directory = Directory.CreateTempSubdirectory("ambient-dashboard-bench-").FullName;
        sqlitePath ??= Path.Combine(directory, "ambient.db");
        try
        {
            await using var dataSource = new MySqlDataSourceBuilder(server).Build();
            if (ownDatabase is not null)
            {
                // Debian's default buffer pool: what a Raspberry Pi's MariaDB has, not the test server's 64 MB.
                await ExecuteAsync(dataSource, string.Create(CultureInfo.InvariantCulture, $"SET GLOBAL innodb_buffer_pool_size = {bufferPool * 1024 * 1024}"));
            }

            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}; .NET {Environment.Version}; {await ScalarAsync(dataSource, "SELECT CONCAT('MariaDB ', VERSION(), ', buffer pool ', @@innodb_buffer_pool_size DIV 1048576, ' MB')")}; SQLite {SqliteVersion()}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
            var fill = Stopwatch.StartNew();
            if (await ScalarAsync(dataSource, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'Ambient_5m'") is "0")
            {
                await FillMariaDbAsync(dataSource);
                Console.WriteLine($"MariaDB filled in {fill.Elapsed.TotalSeconds:F0} s: {await ScalarAsync(dataSource, "SELECT COUNT(*) FROM Ambient")} rows, {await ScalarAsync(dataSource, "SELECT COUNT(*) FROM Ambient_5m")} summary rows, {await ScalarAsync(dataSource, "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")} MB");
            }

            fill.Restart();
            if (!File.Exists(sqlitePath))
            {
                FillSqlite(sqlitePath);
                Console.WriteLine($"SQLite filled in {fill.Elapsed.TotalSeconds:F0} s: {new FileInfo(sqlitePath).Length / 1048576} MB");
            }

            var serverPid = ServerProcess(new MySqlConnectionStringBuilder(server).Port);
            var mariaDbReader = new MariaDbAmbientReader(dataSource, new MariaDbRepositoryOptions { TimeZone = "Asia/Tokyo" });
            using var sqliteReader = new SqliteAmbientReader(new SqliteRepositoryOptions { Path = sqlitePath, TimeZone = "Asia/Tokyo" });
            await using var mariaDbDashboard = await DashboardServer.StartAsync(mariaDbReader, new DashboardOptions { Urls = "http://127.0.0.1:0" });
            await using var sqliteDashboard = await DashboardServer.StartAsync(sqliteReader, new DashboardOptions { Urls = "http://127.0.0.1:0" });
            using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            var targets = new (string Name, string Url)[] { ("MariaDB", mariaDbDashboard.Url), ("SQLite", sqliteDashboard.Url) };

            var requests = new (string Name, string Query, string Target)[]
            {
                ("30-day view (page, 1000 px)", Readings(Now.AddDays(-30), Now, 1000), "≤ 300 ms"),
                ("24-hour view (page, 1000 px)", Readings(Now.AddDays(-1), Now, 1000), "≤ 50 ms"),
                ("24-hour view, one node", Readings(Now.AddDays(-1), Now, 1000) + "&node=node-3", string.Empty),
                ("1-hour view (page, 1000 px)", Readings(Now.AddHours(-1), Now, 1000), string.Empty),
                ("24-hour view in 1-minute buckets (points=1500, from the rows)", Readings(Now.AddDays(-1), Now, 1500), string.Empty),
                ("nodes", "api/nodes", string.Empty),
            };

            Console.WriteLine($"load average before measuring: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine();
            Console.WriteLine($"Each request {runs} times after 3 unmeasured, MariaDB and SQLite alternating; time from sending the request to the last byte of the answer.");
            Console.WriteLine();
            Console.WriteLine("CPU ms per request: this process (client, Kestrel, reader) plus, for MariaDB, the server's, averaged over the runs: what a request costs when it has a core to itself.");
            Console.WriteLine();
            Console.WriteLine("| request | database | median ms | p95 ms | min ms | CPU ms per request | answer KB | target |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var (name, query, target) in requests)
            {
                var times = targets.ToDictionary(t => t.Name, _ => new List<double>());
                var cpu = targets.ToDictionary(t => t.Name, _ => 0.0);
                var sizes = new Dictionary<string, long>();
                for (var run = -3; run < runs; run++)
                {
                    foreach (var (database, url) in targets)
                    {
                        var cpuBefore = CpuMilliseconds(database == "MariaDB" ? serverPid : null);
                        var started = Stopwatch.GetTimestamp();
                        using var response = await client.GetAsync(new Uri(url + "/" + query));
                        var body = await response.Content.ReadAsByteArrayAsync();
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        if (run >= 0)
                        {
                            cpu[database] += CpuMilliseconds(database == "MariaDB" ? serverPid : null) - cpuBefore;
                        }

                        if (!response.IsSuccessStatusCode)
                        {
                            throw new InvalidOperationException($"{database} {query}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                        }

                        if (run >= 0)
                        {
                            times[database].Add(elapsed);
                        }

                        sizes[database] = body.Length;
                    }
                }

                foreach (var (database, _) in targets)
                {
                    var sorted = times[database].Order().ToList();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {database} | {Percentile(sorted, 0.5):F1} | {Percentile(sorted, 0.95):F1} | {sorted[0]:F1} | {cpu[database] / runs:F1} | {sizes[database] / 1024.0:F0} | {target} |"));
                }
            }

            Console.WriteLine();
            Console.WriteLine("The same data requests without HTTP and JSON: IAmbientReader.GetBucketsAsync alone (the database's share).");
            Console.WriteLine();
            Console.WriteLine("| request | database | median ms | p95 ms | min ms | buckets |");
            Console.WriteLine("|---|---|---|---|---|---|");
            var readers = new (string Name, IAmbientReader Reader)[] { ("MariaDB", mariaDbReader), ("SQLite", sqliteReader) };
            foreach (var (name, from, points) in new[] { ("30-day view", Now.AddDays(-30), 1000), ("24-hour view", Now.AddDays(-1), 1000) })
            {
                var times = readers.ToDictionary(r => r.Name, _ => new List<double>());
                var counts = new Dictionary<string, int>();
                for (var run = -3; run < runs; run++)
                {
                    foreach (var (database, reader) in readers)
                    {
                        var started = Stopwatch.GetTimestamp();
                        var buckets = await reader.GetBucketsAsync(from, Now, points);
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        if (run >= 0)
                        {
                            times[database].Add(elapsed);
                        }

                        counts[database] = buckets.Buckets.Count;
                    }
                }

                foreach (var (database, _) in readers)
                {
                    var sorted = times[database].Order().ToList();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {database} | {Percentile(sorted, 0.5):F1} | {Percentile(sorted, 0.95):F1} | {sorted[0]:F1} | {counts[database]} |"));
                }
            }

            Console.WriteLine();
            Console.WriteLine($"CSV of the last day of all nodes ({ReadingsPerDay * Nodes:N0} rows), {csvRuns} times each after 1 unmeasured, alternating:");
            Console.WriteLine();
            Console.WriteLine("| database | rows | median s | median rows/s | slowest rows/s | CPU s per export | rows per CPU second | MB | target |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            var csvCpu = targets.ToDictionary(t => t.Name, _ => 0.0);
            var csv = string.Create(CultureInfo.InvariantCulture, $"api/readings.csv?from={Uri.EscapeDataString(Now.AddDays(-1).ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(Now.ToString("O", CultureInfo.InvariantCulture))}");
            var csvTimes = targets.ToDictionary(t => t.Name, _ => new List<(double Seconds, long Rows, long Bytes)>());
            for (var run = -1; run < csvRuns; run++)
            {
                foreach (var (database, url) in targets)
                {
                    var cpuBefore = CpuMilliseconds(database == "MariaDB" ? serverPid : null);
                    var started = Stopwatch.GetTimestamp();
                    using var response = await client.GetAsync(new Uri(url + "/" + csv), HttpCompletionOption.ResponseHeadersRead);
                    response.EnsureSuccessStatusCode();
                    await using var stream = await response.Content.ReadAsStreamAsync();
                    var buffer = new byte[64 * 1024];
                    long bytes = 0, lines = 0;
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0)
                    {
                        bytes += read;
                        lines += buffer.AsSpan(0, read).Count((byte)'\n');
                    }

                    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    if (run >= 0)
                    {
                        csvTimes[database].Add((seconds, lines - 1, bytes));
                        csvCpu[database] += (CpuMilliseconds(database == "MariaDB" ? serverPid : null) - cpuBefore) / 1000;
                    }
                }
            }

            foreach (var (database, _) in targets)
            {
                var results = csvTimes[database].OrderBy(r => r.Seconds).ToList();
                var median = results[results.Count / 2];
                var cpuSeconds = csvCpu[database] / csvRuns;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {database} | {median.Rows:N0} | {median.Seconds:F2} | {median.Rows / median.Seconds:N0} | {results[^1].Rows / results[^1].Seconds:N0} | {cpuSeconds:F2} | {median.Rows / cpuSeconds:N0} | {median.Bytes / 1048576.0:F1} | ≥ 100,000 rows/s |"));
            }

            Console.WriteLine();
            Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine($"peak working set of this process (harness, both dashboards, SQLite): {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MB");
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Readings(DateTimeOffset from, DateTimeOffset to, int points) => string.Create(
        CultureInfo.InvariantCulture,
        $"api/readings?from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}&points={points}");

    /// <summary>The tables of SCHEMA.md, then one day per statement, then the summaries from the rows.</summary>
    private static async Task FillMariaDbAsync(MySqlDataSource dataSource)
    {
        // The repository's own tables (SCHEMA.md), empty.
        await using (var repository = new MariaDbAmbientRepository(dataSource, new MariaDbRepositoryOptions { TimeZone = "Asia/Tokyo" }))
        {
            await repository.EnsureSchemaAsync();
        }

        // Multi-row INSERTs written here, and the 5-minute summaries of the same values beside them (a GROUP BY or a
        // recursive CTE of this size runs through a temporary file in /tmp, which a busy machine's cleaning took away
        // mid-statement twice). Node k reads k × 0.3 s after the whole 5 s; the values wander with the time of day, the
        // pressure over days, with a per-row jitter.
        await using var connection = await dataSource.OpenConnectionAsync();
        var text = new System.Text.StringBuilder();
        for (var day = 0; day < Days; day++)
        {
            for (var first = 0; first < ReadingsPerDay; first += 200)
            {
                text.Clear().Append("INSERT INTO Ambient (timestamp, identifier, temperature, humidity, pressure, timestamp_utc) VALUES ");
                for (var i = first; i < Math.Min(first + 200, ReadingsPerDay); i++)
                {
                    for (var k = 0; k < Nodes; k++)
                    {
                        var (utc, t, h, p) = Reading(day, i, k);
                        text.Append(CultureInfo.InvariantCulture, $"('{utc.AddHours(9):yyyy-MM-dd HH:mm:ss.ffffff}','node-{k}',{t},{h},{p},'{utc:yyyy-MM-dd HH:mm:ss.ffffff}'),");
                    }
                }

                text.Length--;
                await using var command = new MySqlCommand(text.ToString(), connection) { CommandTimeout = 0 };
                await command.ExecuteNonQueryAsync();
            }
        }

        foreach (var chunk in Summaries().Chunk(1000))
        {
            text.Clear().Append("INSERT INTO Ambient_5m (identifier, bucket_utc, readings, temperature_sum, temperature_min, temperature_max, humidity_sum, humidity_min, humidity_max, pressure_sum, pressure_min, pressure_max) VALUES ");
            foreach (var m in chunk)
            {
                text.Append(CultureInfo.InvariantCulture, $"('{m.Node}','{m.Bucket:yyyy-MM-dd HH:mm:ss}',{m.Count},{m.T.Sum},{m.T.Min},{m.T.Max},{m.H.Sum},{m.H.Min},{m.H.Max},{m.P.Sum},{m.P.Min},{m.P.Max}),");
            }

            text.Length--;
            await using var command = new MySqlCommand(text.ToString(), connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync();
        }

        await using var analyze = new MySqlCommand("ANALYZE TABLE Ambient, Ambient_5m", connection);
        await analyze.ExecuteNonQueryAsync();
    }

    private static void FillSqlite(string path)
    {
        using (var repository = new SqliteAmbientRepository(new SqliteRepositoryOptions { Path = path, TimeZone = "Asia/Tokyo" }))
        {
            repository.EnsureSchemaAsync().GetAwaiter().GetResult();
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandTimeout = 0;

        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO \"Ambient\" (timestamp, identifier, temperature, humidity, pressure, timestamp_utc) VALUES ($l, $i, $t, $h, $p, $u)";
            var l = insert.Parameters.Add("$l", SqliteType.Text);
            var identifier = insert.Parameters.Add("$i", SqliteType.Text);
            var temperature = insert.Parameters.Add("$t", SqliteType.Real);
            var humidity = insert.Parameters.Add("$h", SqliteType.Real);
            var pressure = insert.Parameters.Add("$p", SqliteType.Real);
            var u = insert.Parameters.Add("$u", SqliteType.Text);
            for (var day = 0; day < Days; day++)
            {
                using var transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                for (var i = 0; i < ReadingsPerDay; i++)
                {
                    for (var k = 0; k < Nodes; k++)
                    {
                        var (utc, t, h, p) = Reading(day, i, k);
                        l.Value = utc.AddHours(9).ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
                        identifier.Value = "node-" + k.ToString(CultureInfo.InvariantCulture);
                        temperature.Value = t;
                        humidity.Value = h;
                        pressure.Value = p;
                        u.Value = utc.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
                        insert.ExecuteNonQuery();
                    }
                }

                transaction.Commit();
            }
        }

        using (var transaction = connection.BeginTransaction())
        {
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO \"Ambient_5m\" (identifier, bucket_utc, readings, temperature_sum, temperature_min, temperature_max, humidity_sum, humidity_min, humidity_max, pressure_sum, pressure_min, pressure_max) VALUES ($i, $b, $n, $ts, $tl, $th, $hs, $hl, $hh, $ps, $pl, $ph)";
            foreach (var m in Summaries())
            {
                command.Parameters.Clear();
                command.Parameters.AddWithValue("$i", m.Node);
                command.Parameters.AddWithValue("$b", m.Bucket.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
                command.Parameters.AddWithValue("$n", m.Count);
                command.Parameters.AddWithValue("$ts", m.T.Sum);
                command.Parameters.AddWithValue("$tl", m.T.Min);
                command.Parameters.AddWithValue("$th", m.T.Max);
                command.Parameters.AddWithValue("$hs", m.H.Sum);
                command.Parameters.AddWithValue("$hl", m.H.Min);
                command.Parameters.AddWithValue("$hh", m.H.Max);
                command.Parameters.AddWithValue("$ps", m.P.Sum);
                command.Parameters.AddWithValue("$pl", m.P.Min);
                command.Parameters.AddWithValue("$ph", m.P.Max);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        command.Transaction = null;
        command.CommandText = "ANALYZE";
        command.ExecuteNonQuery();
    }

    /// <summary>The 5-minute summaries of every generated reading, per node, as the repository keeps them.</summary>
    private static IEnumerable<(string Node, DateTime Bucket, int Count, (double Sum, double Min, double Max) T, (double Sum, double Min, double Max) H, (double Sum, double Min, double Max) P)> Summaries()
    {
        const int PerBucket = 300 / StepSeconds;
        for (var k = 0; k < Nodes; k++)
        {
            for (var day = 0; day < Days; day++)
            {
                for (var first = 0; first < ReadingsPerDay; first += PerBucket)
                {
                    var readings = Enumerable.Range(first, PerBucket).Select(i => Reading(day, i, k)).ToList();
                    yield return (
                        "node-" + k.ToString(CultureInfo.InvariantCulture),
                        readings[0].Utc.AddTicks(-(readings[0].Utc.Ticks % (300 * TimeSpan.TicksPerSecond))),
                        PerBucket,
                        (readings.Sum(r => r.T), readings.Min(r => r.T), readings.Max(r => r.T)),
                        (readings.Sum(r => r.H), readings.Min(r => r.H), readings.Max(r => r.H)),
                        (readings.Sum(r => r.P), readings.Min(r => r.P), readings.Max(r => r.P)));
                }
            }
        }
    }

    /// <summary>The reading of node <paramref name="k"/> at step <paramref name="i"/> of day <paramref name="day"/>.</summary>
    private static (DateTime Utc, double T, double H, double P) Reading(int day, int i, int k)
    {
        var utc = DataStart.AddSeconds(((day * ReadingsPerDay) + i) * (double)StepSeconds).AddTicks(k * 3_000_000L);
        var phase = 2 * Math.PI * i / ReadingsPerDay;
        return (
            utc,
            Math.Round(18 + k + (6 * Math.Sin(phase)) + (((i * 7919) + (k * 104729)) % 100 / 100.0), 2),
            Math.Round(55 + k - (15 * Math.Sin(phase)) + (((i * 6271) + (k * 7907)) % 100 / 50.0), 2),
            Math.Round(1005 + (8 * Math.Sin(2 * Math.PI * ((day * ReadingsPerDay) + i) / (ReadingsPerDay * 5.0))) + (((i * 3571) + (k * 2903)) % 100 / 200.0), 2));
    }

    private static async Task ExecuteAsync(MySqlDataSource dataSource, string sql)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> ScalarAsync(MySqlDataSource dataSource, string sql)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) ?? string.Empty;
    }

    /// <summary>The CPU time of this process and, when given, of the database server (from /proc, 10 ms ticks: averaged
    /// over many requests).</summary>
    private static double CpuMilliseconds(int? serverPid)
    {
        var own = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        if (serverPid is not { } pid)
        {
            return own;
        }

        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return own + ((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0);
    }

    /// <summary>The mariadbd listening on <paramref name="port"/>, by its command line.</summary>
    private static int? ServerProcess(uint port)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    var command = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                    if (command.Contains("mariadbd", StringComparison.Ordinal) && command.Contains($"--port={port} ", StringComparison.Ordinal))
                    {
                        return pid;
                    }
                }
                catch (IOException)
                {
                }
            }
        }

        return null;
    }

    private static string SqliteVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return (string)command.ExecuteScalar()!;
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
