using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;
using MySqlConnector;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// End-to-end ingest: mosquitto_pub -l → mosquitto → MqttInsert (its own process) → MariaDB, measured from outside.
/// </summary>
internal static partial class IngestBenchmark
{
    private static readonly long ClockTicks = 100; // USER_HZ on Linux

    public static async Task<int> RunAsync(string[] args)
    {
        var count = 100_000;
        var runs = 3;
        var latencyCount = 300;
        var warmup = 5000;
        string? mqtt = null;
        string? mariadb = null;
        var extra = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--count": count = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--latency": latencyCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--insert": MqttInsertProcess.InsertAssembly = Path.GetFullPath(args[++i]); break;
                case "--mqtt": mqtt = args[++i]; break;
                case "--mariadb": mariadb = args[++i]; break;
                default: extra.Add(args[i]); break; // handed to MqttInsert, e.g. --Mqtt:Connections=2
            }
        }

        await using var ownBroker = mqtt is null ? await PrivateMosquitto.StartNewAsync() : null;
        await using var ownDatabase = mariadb is null ? await PrivateMariaDb.StartNewAsync() : null;
        var (host, port) = mqtt is null ? (ownBroker!.Host, ownBroker.Port) : (mqtt[..mqtt.LastIndexOf(':')], int.Parse(mqtt[(mqtt.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
        var server = mariadb ?? ownDatabase!.ConnectionString;

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}; .NET {Environment.Version}; {Version("mosquitto", "-h")}; {await ServerVersionAsync(server)}");
        Console.WriteLine($"MqttInsert arguments: {(extra.Count == 0 ? "(defaults)" : string.Join(' ', extra))}");
        Console.WriteLine();
        Console.WriteLine("| run | readings | rows/s | CPU µs/reading | peak RSS MB | lost | duplicated | elapsed s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        if (warmup > 0)
        {
            // Not counted: the first burst also pays for this harness's own start (compiling its code, the servers'
            // first pages), which would fall on the first measured run only.
            var first = await BurstAsync(host, port, server, warmup, 0, extra);
            Console.WriteLine($"| warm-up | {warmup} | {first.RowsPerSecond:F0} | {first.CpuMicrosPerReading:F1} | {first.PeakRssMb:F0} | {first.Lost} | {first.Duplicated} | {first.Elapsed.TotalSeconds:F2} |");
        }

        var results = new List<BurstResult>();
        for (var run = 1; run <= runs; run++)
        {
            var result = await BurstAsync(host, port, server, count, run, extra);
            results.Add(result);
            Console.WriteLine($"| {run} | {count} | {result.RowsPerSecond:F0} | {result.CpuMicrosPerReading:F1} | {result.PeakRssMb:F0} | {result.Lost} | {result.Duplicated} | {result.Elapsed.TotalSeconds:F2} |");
        }

        Console.WriteLine($"| median | {count} | {Median(results.Select(r => r.RowsPerSecond)):F0} | {Median(results.Select(r => r.CpuMicrosPerReading)):F1} | {Median(results.Select(r => r.PeakRssMb)):F0} | {results.Sum(r => r.Lost)} | {results.Sum(r => r.Duplicated)} | {Median(results.Select(r => r.Elapsed.TotalSeconds)):F2} |");

        Console.WriteLine();
        foreach (var result in results)
        {
            Console.WriteLine(result.MachineBreakdown);
        }

        if (latencyCount > 0)
        {
            var latencies = await LatencyAsync(host, port, server, latencyCount, extra);
            latencies.Sort();
            Console.WriteLine();
            Console.WriteLine($"publish→commit latency, one reading every 100 ms, {latencies.Count} readings: p50 {Percentile(latencies, 0.50):F1} ms, p90 {Percentile(latencies, 0.90):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms");
        }

        return results.All(r => r.Lost == 0 && r.Duplicated == 0) ? 0 : 1;
    }

    private static async Task<BurstResult> BurstAsync(string host, int port, string server, int count, int run, List<string> extra)
    {
        var database = await CreateDatabaseAsync(server, $"bench_{run}_{Guid.NewGuid().ToString("N")[..6]}");
        var topic = $"bench/{Guid.NewGuid():N}";
        var file = Path.Combine(Path.GetTempPath(), $"ambient-bench-{Guid.NewGuid():N}.jsonl");
        var start = Instant.FromUtc(2025, 1, 1, 0, 0);
        await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
        {
            for (var i = 0; i < count; i++)
            {
                var reading = new AmbientReading(start + Duration.FromMilliseconds(i), 20 + (i % 1000) / 100.0, 50 + (i % 500) / 100.0, 1000 + (i % 300) / 100.0);
                await writer.WriteLineAsync(AmbientPayload.EncodeToString(reading));
            }
        }

        try
        {
            await using var insert = MqttInsertProcess.Start(host, port, topic, $"bench-{Guid.NewGuid().ToString("N")[..8]}", database, extra);
            await insert.WaitForLineAsync(l => l == "waiting for mqtt message", TimeSpan.FromSeconds(60));
            var cpuBefore = CpuTicks(insert.Id);
            var machineBefore = MachineCpu.Take();

            var clock = Stopwatch.StartNew();
            // The file goes to mosquitto_pub through cat, so this harness spends no CPU feeding it while the burst runs.
            // mosquitto_pub 2.0.11 -l quits at end of input without sending what it still holds (about two thirds of a
            // fast 100,000-line file): `sleep` keeps its input open until every row is in, then the tree is killed.
            var publisherInfo = new ProcessStartInfo("bash") { UseShellExecute = false };
            foreach (var argument in (string[])["-c", "exec mosquitto_pub -h \"$1\" -p \"$2\" -q 1 -t \"$3\" -l < <(cat \"$4\"; exec sleep 3600)", "publish", host, port.ToString(CultureInfo.InvariantCulture), topic, file])
            {
                publisherInfo.ArgumentList.Add(argument);
            }

            using var publisher = Process.Start(publisherInfo)!;
            var done = await insert.WaitForAffectedAsync(count, TimeSpan.FromMinutes(10));
            var elapsed = clock.Elapsed;
            var cpuAfter = CpuTicks(insert.Id);
            var machineAfter = MachineCpu.Take();
            var peakRss = PeakRssKb(insert.Id);
            var labels = new Dictionary<int, string> { [insert.Id] = "MqttInsert", [Environment.ProcessId] = "harness" };
            var (byProcess, busy) = MachineCpu.Between(machineBefore, machineAfter, count, labels);
            publisher.Kill(entireProcessTree: true);
            await publisher.WaitForExitAsync();

            var (rows, distinct) = await CountAsync(database);
            insert.Terminate();
            await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));
            if (!done)
            {
                Console.Error.WriteLine($"run {run}: MqttInsert reported {insert.Affected} of {count} rows; stderr tail:{Environment.NewLine}{insert.ErrorTail()}");
            }

            return new BurstResult(
                count / elapsed.TotalSeconds,
                (cpuAfter - cpuBefore) * 1_000_000.0 / ClockTicks / count,
                peakRss / 1024.0,
                count - distinct,
                rows - distinct,
                elapsed,
                $"run {run}: machine {busy:P0} busy; CPU µs per reading: " + string.Join(", ", byProcess.Take(6).Select(p => $"{p.Name} {p.Micros:F1}")));
        }
        finally
        {
            File.Delete(file);
            await DropDatabaseAsync(server, database);
        }
    }

    private static async Task<List<double>> LatencyAsync(string host, int port, string server, int count, List<string> extra)
    {
        var database = await CreateDatabaseAsync(server, $"bench_latency_{Guid.NewGuid().ToString("N")[..6]}");
        var topic = $"bench/{Guid.NewGuid():N}";
        try
        {
            await using var insert = MqttInsertProcess.Start(host, port, topic, $"bench-{Guid.NewGuid().ToString("N")[..8]}", database, extra);
            await insert.WaitForLineAsync(l => l == "waiting for mqtt message", TimeSpan.FromSeconds(60));
            using var client = new MqttClientFactory().CreateMqttClient();
            await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).Build());
            var next = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                var reading = new AmbientReading(SystemClock.Instance.GetCurrentInstant(), 21.5, 50.25, 1001.75);
                await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(AmbientPayload.Encode(reading)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                next += Stopwatch.Frequency / 10;
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
            }

            await insert.WaitForAffectedAsync(count, TimeSpan.FromSeconds(30));
            await client.DisconnectAsync();
            insert.Terminate();
            await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));
            return insert.Latencies.ToList();
        }
        finally
        {
            await DropDatabaseAsync(server, database);
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

    private static async Task DropDatabaseAsync(string server, string database)
    {
        var name = new MySqlConnectionStringBuilder(database).Database;
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

    private static async Task<string> ServerVersionAsync(string server)
    {
        await using var connection = new MySqlConnection(server);
        await connection.OpenAsync();
        return "MariaDB " + connection.ServerVersion;
    }

    private static long CpuTicks(int pid)
    {
        // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" that ends the command name.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static long PeakRssKb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture);
    }

    private static string CpuModel()
    {
        var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
        return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 2)..];
    }

    private static string Version(string program, string flag)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(PrivateMosquitto.FindBinary() ?? program, [flag]) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var first = process.StandardOutput.ReadLine();
            process.WaitForExit();
            return first ?? program;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return program + " (not found)";
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private sealed record BurstResult(double RowsPerSecond, double CpuMicrosPerReading, double PeakRssMb, long Lost, long Duplicated, TimeSpan Elapsed, string MachineBreakdown);

    /// <summary>MqttInsert as a process, its stdout read as it comes: affected-row totals and, per row line, latency.</summary>
    private sealed partial class MqttInsertProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly ConcurrentQueue<string> _errors = new();
        private long _affected;
        private long _targetCount = long.MaxValue;
        private TaskCompletionSource? _reached;

        private MqttInsertProcess(Process process)
        {
            _process = process;
        }

        public int Id => _process.Id;

        public long Affected => Interlocked.Read(ref _affected);

        public ConcurrentQueue<double> Latencies { get; } = new();

        /// <summary>Gets or sets another build of MqttInsert to run (<c>--insert path/MqttInsert.dll</c>), such as a published one.</summary>
        public static string? InsertAssembly { get; set; }

        public static MqttInsertProcess Start(string host, int port, string topic, string clientId, string connectionString, List<string> extra)
        {
            var dll = InsertAssembly ?? Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "MqttInsert", "bin", "Release", "net10.0", "MqttInsert.dll");
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            info.ArgumentList.Add(Path.GetFullPath(dll));
            foreach (var argument in (string[])[$"--Mqtt:Host={host}", $"--Mqtt:Port={port}", $"--Mqtt:Topic={topic}", $"--Mqtt:ClientId={clientId}", $"--Database:ConnectionString={connectionString}", "--Logging:LogLevel:Default=Warning", .. extra])
            {
                info.ArgumentList.Add(argument);
            }

            var process = new Process { StartInfo = info };
            var wrapper = new MqttInsertProcess(process);
            process.OutputDataReceived += (_, e) => wrapper.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    wrapper._errors.Enqueue(e.Data);
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return wrapper;
        }

        public async Task WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!_lines.Any(predicate))
            {
                if (clock.Elapsed > timeout || _process.HasExited)
                {
                    throw new InvalidOperationException($"MqttInsert did not get ready:{Environment.NewLine}{ErrorTail()}");
                }

                await Task.Delay(20);
            }
        }

        public async Task<bool> WaitForAffectedAsync(long count, TimeSpan timeout)
        {
            // Signalled by the line that reaches the count, so the harness does not wake up while the burst runs.
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _reached, reached);
            Interlocked.Exchange(ref _targetCount, count);
            if (Affected >= count)
            {
                return true;
            }

            var exited = _process.WaitForExitAsync();
            var finished = await Task.WhenAny(reached.Task, exited, Task.Delay(timeout));
            return finished == reached.Task || Affected >= count;
        }

        public void Terminate() => Signals.Terminate(_process.Id);

        public async Task WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }

        public string ErrorTail() => string.Join(Environment.NewLine, _errors.TakeLast(20));

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

            var arrived = SystemClock.Instance.GetCurrentInstant();
            if (_lines.Count < 1000)
            {
                _lines.Enqueue(line);
            }

            var affected = AffectedLine().Match(line);
            if (affected.Success)
            {
                var total = Interlocked.Add(ref _affected, long.Parse(affected.Groups[1].Value, CultureInfo.InvariantCulture));
                if (total >= Interlocked.Read(ref _targetCount))
                {
                    Volatile.Read(ref _reached)?.TrySetResult();
                }

                return;
            }

            var row = RowLine().Match(line);
            if (row.Success)
            {
                var stamp = OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd' 'HH':'mm':'ss'.'ffffffo<m>").Parse(row.Groups[1].Value);
                if (stamp.Success)
                {
                    Latencies.Enqueue((arrived - stamp.Value.ToInstant()).TotalMilliseconds);
                }
            }
        }

        [GeneratedRegex(@"^ クエリを実行しました。\((\d+) row affected\.\)$")]
        private static partial Regex AffectedLine();

        [GeneratedRegex(@"^●NEW_DATA:  \{'timestamp': '([^']+)'")]
        private static partial Regex RowLine();
    }
}
