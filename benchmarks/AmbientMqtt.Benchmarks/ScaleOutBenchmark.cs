using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// More than one MqttInsert on one broker and one database, end to end: the same burst of N readings
/// (mosquitto_pub -l → mosquitto) into one plain MqttInsert, into K MqttInsert on one shared group
/// (<c>--Mqtt:SharedGroup</c>, each its own client id), and into K standby MqttInsert (the same filter, no sharing, so
/// each writes every reading and all but one copy are duplicates the unique key skips). The configurations take turns
/// within each run, so a slow spell of the shared machine falls on all of them. For each burst: rows/s (until every
/// reading is in the table), the time until the last process has written its copies, the rows offered to MariaDB and
/// the duplicates skipped, and CPU per reading of the MqttInsert processes, MariaDB and mosquitto.
/// </summary>
internal static partial class ScaleOutBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = 30_000;
        var runs = 3;
        string[] modes = ["plain-1", "shared-1", "shared-2", "shared-3", "standby-2"];
        string? insertAssembly = null;
        var extra = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--count": count = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--modes": modes = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--insert": insertAssembly = Path.GetFullPath(args[++i]); break;
                default: extra.Add(args[i]); break; // handed to every MqttInsert
            }
        }

        await using var broker = await PrivateMosquitto.StartNewAsync();
        await using var database = await PrivateMariaDb.StartNewAsync();
        var dll = insertAssembly ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "MqttInsert", "bin", "Release", "net10.0", "MqttInsert.dll"));
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; .NET {Environment.Version}; MqttInsert {dll}");
        Console.WriteLine($"{count} readings per burst, {runs} runs, configurations in turn: {string.Join(", ", modes)}");
        Console.WriteLine();
        Console.WriteLine("| run | configuration | rows/s | all copies written s | rows offered | duplicates skipped | MqttInsert CPU µs/reading (sum; each) | MariaDB µs/reading | mosquitto µs/reading | lost | duplicated |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");

        // Not counted: the first burst pays for the harness's and the servers' first start.
        await BurstAsync(broker, database.ConnectionString, dll, "plain-1", Math.Min(5000, count), 0, extra);
        var results = new List<(string Mode, BurstResult Result)>();
        for (var run = 1; run <= runs; run++)
        {
            foreach (var mode in modes)
            {
                var result = await BurstAsync(broker, database.ConnectionString, dll, mode, count, run, extra);
                results.Add((mode, result));
                Console.WriteLine($"| {run} | {mode} | {result.RowsPerSecond:F0} | {result.AllWritten.TotalSeconds:F2} | {result.Offered} | {result.DuplicatesSkipped} | "
                    + $"{result.InsertMicros.Sum():F1}; {string.Join(" + ", result.InsertMicros.Select(m => m.ToString("F1", CultureInfo.InvariantCulture)))} | "
                    + $"{result.MariaDbMicros:F1} | {result.MosquittoMicros:F1} | {result.Lost} | {result.Duplicated} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| configuration | rows/s (median) | MqttInsert CPU µs/reading (median of sums) | MariaDB µs/reading (median) | rows offered per reading |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var mode in modes)
        {
            var mine = results.Where(r => r.Mode == mode).Select(r => r.Result).ToList();
            Console.WriteLine($"| {mode} | {Median(mine.Select(r => r.RowsPerSecond)):F0} | {Median(mine.Select(r => r.InsertMicros.Sum())):F1} | "
                + $"{Median(mine.Select(r => r.MariaDbMicros)):F1} | {Median(mine.Select(r => (double)r.Offered / count)):F2} |");
        }

        return results.All(r => r.Result.Lost == 0 && r.Result.Duplicated == 0) ? 0 : 1;
    }

    private static async Task<BurstResult> BurstAsync(PrivateMosquitto broker, string server, string dll, string mode, int count, int run, List<string> extra)
    {
        var processes = int.Parse(mode[(mode.IndexOf('-', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
        var name = $"scale_{run}_{Guid.NewGuid().ToString("N")[..6]}";
        var connectionString = await CreateDatabaseAsync(server, name);
        var topic = $"bench/{Guid.NewGuid():N}";
        var group = "bench" + Guid.NewGuid().ToString("N")[..6];
        var file = Path.Combine(Path.GetTempPath(), $"ambient-scale-{Guid.NewGuid():N}.jsonl");
        var start = Instant.FromUtc(2025, 1, 1, 0, 0);
        await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
        {
            for (var i = 0; i < count; i++)
            {
                var reading = new AmbientReading(start + Duration.FromMilliseconds(i), 20 + (i % 1000) / 100.0, 50 + (i % 500) / 100.0, 1000 + (i % 300) / 100.0);
                await writer.WriteLineAsync(AmbientPayload.EncodeToString(reading));
            }
        }

        var inserts = new List<InsertProcess>();
        try
        {
            for (var p = 0; p < processes; p++)
            {
                List<string> arguments = [.. extra];
                if (mode.StartsWith("shared", StringComparison.Ordinal))
                {
                    arguments.Add("--Mqtt:SharedGroup=" + group);
                }

                inserts.Add(InsertProcess.Start(dll, broker.Host, broker.Port, topic, $"scale-{p}-{Guid.NewGuid().ToString("N")[..6]}", connectionString, arguments));
            }

            foreach (var insert in inserts)
            {
                await insert.WaitReadyAsync(TimeSpan.FromSeconds(60));
            }

            var machineBefore = MachineCpu.Take();
            var clock = Stopwatch.StartNew();

            // As in the ingest benchmark: mosquitto_pub reads the file through cat, and sleep keeps its input open, since
            // mosquitto_pub 2.0.11 -l quits at the end of input without sending what it still holds.
            var publisherInfo = new ProcessStartInfo("bash") { UseShellExecute = false };
            foreach (var argument in (string[])["-c", "exec mosquitto_pub -h \"$1\" -p \"$2\" -q 1 -t \"$3\" -l < <(cat \"$4\"; exec sleep 3600)", "publish", broker.Host, broker.Port.ToString(CultureInfo.InvariantCulture), topic, file])
            {
                publisherInfo.ArgumentList.Add(argument);
            }

            using var publisher = Process.Start(publisherInfo)!;

            // Every reading is in the table once the processes' inserted rows add up to N (each row is inserted by one).
            await WaitUntilAsync(() => inserts.Sum(i => i.Inserted) >= count, TimeSpan.FromMinutes(10));
            var inTable = clock.Elapsed;

            // A standby writes every reading; a shared member its share: wait until all copies are written.
            var expectedOffered = mode.StartsWith("standby", StringComparison.Ordinal) ? (long)count * processes : count;
            await WaitUntilAsync(() => inserts.Sum(i => i.Offered) >= expectedOffered, TimeSpan.FromMinutes(10));
            var allWritten = clock.Elapsed;
            var machineAfter = MachineCpu.Take();
            publisher.Kill(entireProcessTree: true);
            await publisher.WaitForExitAsync();

            var labels = new Dictionary<int, string> { [Environment.ProcessId] = "harness" };
            for (var p = 0; p < inserts.Count; p++)
            {
                labels[inserts[p].Id] = "MqttInsert-" + p.ToString(CultureInfo.InvariantCulture);
            }

            var (byProcess, _) = MachineCpu.Between(machineBefore, machineAfter, count, labels);
            double Micros(string label) => byProcess.Where(b => b.Name == label).Sum(b => b.Micros);
            var (rows, distinct) = await CountAsync(connectionString);
            foreach (var insert in inserts)
            {
                insert.Terminate();
            }

            foreach (var insert in inserts)
            {
                await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }

            var offered = inserts.Sum(i => i.Offered);
            return new BurstResult(
                count / inTable.TotalSeconds,
                allWritten,
                offered,
                offered - inserts.Sum(i => i.Inserted),
                [.. inserts.Select((_, p) => Micros("MqttInsert-" + p.ToString(CultureInfo.InvariantCulture)))],
                Micros("mariadbd"),
                Micros("mosquitto"),
                count - distinct,
                rows - distinct);
        }
        finally
        {
            foreach (var insert in inserts)
            {
                await insert.DisposeAsync();
            }

            File.Delete(file);
            await DropDatabaseAsync(server, name);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException("the burst did not complete in time");
            }

            // 20 ms: a fraction of a percent of a burst's seconds, and almost no CPU taken from what is measured.
            await Task.Delay(20);
        }
    }

    private static async Task<string> CreateDatabaseAsync(string server, string name)
    {
        await using var connection = new MySqlConnection(server);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4", connection);
        await command.ExecuteNonQueryAsync();
        return new MySqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    private static async Task DropDatabaseAsync(string server, string name)
    {
        await using var connection = new MySqlConnection(server);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{name}`", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(long Rows, long Distinct)> CountAsync(string database)
    {
        await using var connection = new MySqlConnection(database);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT COUNT(*), COUNT(DISTINCT identifier, timestamp) FROM Ambient", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record BurstResult(
        double RowsPerSecond,
        TimeSpan AllWritten,
        long Offered,
        long DuplicatesSkipped,
        double[] InsertMicros,
        double MariaDbMicros,
        double MosquittoMicros,
        long Lost,
        long Duplicated);

    /// <summary>One MqttInsert, its stdout counted as it comes: rows written (the <c>●NEW_DATA</c> lines, inserted or
    /// found stored) and rows inserted (<c>(N row affected.)</c>).</summary>
    private sealed partial class InsertProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _errors = new();
        private long _offered;
        private long _inserted;
        private volatile bool _ready;

        private InsertProcess(Process process)
        {
            _process = process;
        }

        public int Id => _process.Id;

        public long Offered => Interlocked.Read(ref _offered);

        public long Inserted => Interlocked.Read(ref _inserted);

        public static InsertProcess Start(string dll, string host, int port, string topic, string clientId, string connectionString, List<string> extra)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            info.ArgumentList.Add(dll);
            foreach (var argument in (string[])[$"--Mqtt:Host={host}", $"--Mqtt:Port={port}", $"--Mqtt:Topic={topic}", $"--Mqtt:ClientId={clientId}", $"--Database:ConnectionString={connectionString}", "--Logging:LogLevel:Default=Warning", .. extra])
            {
                info.ArgumentList.Add(argument);
            }

            var process = new Process { StartInfo = info };
            var wrapper = new InsertProcess(process);
            process.OutputDataReceived += (_, e) => wrapper.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null && wrapper._errors.Count < 200)
                {
                    wrapper._errors.Enqueue(e.Data);
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return wrapper;
        }

        public async Task WaitReadyAsync(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!_ready)
            {
                if (clock.Elapsed > timeout || _process.HasExited)
                {
                    throw new InvalidOperationException("MqttInsert did not get ready:" + Environment.NewLine + string.Join(Environment.NewLine, _errors.TakeLast(20)));
                }

                await Task.Delay(20);
            }
        }

        public void Terminate() => Signals.Terminate(_process.Id);

        public async Task WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (line == "waiting for mqtt message")
            {
                _ready = true;
                return;
            }

            var affected = AffectedLine().Match(line);
            if (affected.Success)
            {
                Interlocked.Add(ref _inserted, long.Parse(affected.Groups[1].Value, CultureInfo.InvariantCulture));
                return;
            }

            if (line.StartsWith("●NEW_DATA:  ", StringComparison.Ordinal))
            {
                var summary = SummaryLine().Match(line);
                Interlocked.Add(ref _offered, summary.Success ? long.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture) : 1);
            }
        }

        [GeneratedRegex(@"^ クエリを実行しました。\((\d+) row affected\.\)$")]
        private static partial Regex AffectedLine();

        [GeneratedRegex(@"^●NEW_DATA:  (\d+) rows, from ")]
        private static partial Regex SummaryLine();
    }
}
