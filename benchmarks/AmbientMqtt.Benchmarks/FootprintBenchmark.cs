using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// Footprint of the four sample programs, measured from outside as a user runs them: VmHWM and VmRSS after
/// <c>--idle</c> seconds (Bme280Publisher with the simulated sensor and its default 5 s interval, KeyboardPublisher after
/// one line, MqttInsert after its first row, AmbientStation with its defaults), MqttInsert's VmHWM after a burst of
/// <c>--burst</c> readings (mosquitto_pub -l), start-up time (process start → first reading on the broker, or first row
/// committed), and the size of what is copied to the Pi. Each program runs in each build: <c>fd</c> (framework-dependent,
/// <c>dotnet X.dll</c> from the Release build, as the README runs them), <c>sc</c> (<c>dotnet publish -r linux-x64
/// --self-contained</c>), <c>aot</c> (<c>-p:PublishAot=true</c>, publishers only), and more for the knobs' A/B series:
/// <c>trimmed</c>, <c>r2r</c>. <c>--knob label:VAR=value,VAR=value</c> adds a series with those environment variables
/// (<c>DOTNET_gcConcurrent=0</c>, <c>DOTNET_GCConserveMemory=5</c>, …); series and builds are interleaved run by run.
/// <code>
/// dotnet run -c Release --project benchmarks/AmbientMqtt.Benchmarks -- footprint [--programs Bme280Publisher,MqttInsert]
///   [--builds fd,sc,aot] [--idle 30] [--burst 100000] [--runs 1] [--knob invariant:DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1]
/// </code>
/// </summary>
public static class FootprintBenchmark
{
    private static readonly string[] AllPrograms = ["Bme280Publisher", "KeyboardPublisher", "MqttInsert", "AmbientStation"];
    private static readonly string[] Publishers = ["Bme280Publisher", "KeyboardPublisher"];

    public static async Task<int> RunAsync(string[] args)
    {
        var programs = AllPrograms.ToList();
        var builds = new List<string> { "fd", "sc", "aot" };
        var idle = TimeSpan.FromSeconds(30);
        var burst = 100_000;
        var runs = 1;
        var knobs = new List<(string Label, Dictionary<string, string> Environment)> { ("default", []) };
        var extraPublish = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--programs": programs = [.. args[++i].Split(',')]; break;
                case "--builds": builds = [.. args[++i].Split(',')]; break;
                case "--idle": idle = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--burst": burst = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--publish-property": extraPublish.Add("-p:" + args[++i]); break;
                case "--knob":
                    var knob = args[++i];
                    var colon = knob.IndexOf(':', StringComparison.Ordinal);
                    knobs.Add((knob[..colon], knob[(colon + 1)..].Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1])));
                    break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        var root = SampleRoot();
        var work = Directory.CreateTempSubdirectory("ambientmqtt-footprint-").FullName;
        try
        {
            await using var broker = await PrivateMosquitto.StartNewAsync();
            await using var mariaDb = programs.Contains("MqttInsert") ? await PrivateMariaDb.StartNewAsync() : null;
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; .NET {Environment.Version}; idle {idle.TotalSeconds:0} s, burst {burst:N0}");

            // Every build first, so that no publish runs beside a measurement.
            var cases = new List<Case>();
            foreach (var program in programs)
            {
                foreach (var build in builds.Where(b => b != "aot" || Publishers.Contains(program)))
                {
                    var (command, prefix, size, warnings) = await BuildAsync(root, work, program, build, extraPublish);
                    Console.WriteLine($"{program} {build}: {size / 1048576.0:F1} MB to copy{(warnings.Count > 0 ? $", {warnings.Count} publish warnings" : string.Empty)}");
                    foreach (var warning in warnings.Take(40))
                    {
                        Console.WriteLine("  " + warning);
                    }

                    foreach (var (label, environment) in knobs)
                    {
                        cases.Add(new Case(program, build, label, environment, command, prefix, size));
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine("| program | build | series | run | to copy MB | start-up to first reading / row s | VmHWM idle MB | VmRSS idle MB | VmHWM after burst MB | burst s |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            var results = new List<(Case Case, Measurement Result)>();
            for (var run = 1; run <= runs; run++)
            {
                foreach (var @case in cases)
                {
                    Measurement result;
                    try
                    {
                        result = await MeasureAsync(@case, broker, mariaDb, idle, burst, work);
                    }
                    catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OperationCanceledException)
                    {
                        // A knob that breaks the program (a heap limit too small, say) is a result, not the end of the series.
                        var message = ex.Message.ReplaceLineEndings(" ");
                        Console.WriteLine($"| {@case.Program} | {@case.Build} | {@case.Label} | {run} | failed: {message[..Math.Min(message.Length, 300)]} |");
                        continue;
                    }

                    results.Add((@case, result));
                    Console.WriteLine($"| {@case.Program} | {@case.Build} | {@case.Label} | {run} | {@case.Size / 1048576.0:F1} | {result.StartUp.TotalSeconds:F2} | {result.IdleHwmKb / 1024.0:F1} | {result.IdleRssKb / 1024.0:F1} | {(result.BurstHwmKb > 0 ? (result.BurstHwmKb / 1024.0).ToString("F1", CultureInfo.InvariantCulture) : "–")} | {(result.Burst > TimeSpan.Zero ? result.Burst.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) : "–")} |");
                }
            }

            if (runs > 1)
            {
                Console.WriteLine();
                Console.WriteLine("medians:");
                foreach (var group in results.GroupBy(r => (r.Case.Program, r.Case.Build, r.Case.Label)))
                {
                    Console.WriteLine($"| {group.Key.Program} | {group.Key.Build} | {group.Key.Label} | median of {group.Count()} | {group.First().Case.Size / 1048576.0:F1} | {Median(group.Select(g => g.Result.StartUp.TotalSeconds)):F2} | {Median(group.Select(g => g.Result.IdleHwmKb / 1024.0)):F1} | {Median(group.Select(g => g.Result.IdleRssKb / 1024.0)):F1} | {Median(group.Select(g => g.Result.BurstHwmKb / 1024.0)):F1} | {Median(group.Select(g => g.Result.Burst.TotalSeconds)):F1} |");
                }
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(string Command, string[] Prefix, long Size, List<string> Warnings)> BuildAsync(string root, string work, string program, string build, List<string> extra)
    {
        var project = Path.Combine(root, "samples", program, program + ".csproj");
        string[] kind = build switch
        {
            "fd" => ["-r", "linux-x64", "--self-contained", "false"],
            "sc" => ["-r", "linux-x64", "--self-contained", "true"],
            "aot" => ["-r", "linux-x64", "-p:PublishAot=true"],
            "trimmed" => ["-r", "linux-x64", "--self-contained", "true", "-p:PublishTrimmed=true"],
            "r2r" => ["-r", "linux-x64", "--self-contained", "false", "-p:PublishReadyToRun=true"],
            _ => throw new ArgumentException($"unknown build {build}: fd, sc, aot, trimmed, r2r"),
        };
        var output = Path.Combine(work, $"{program}-{build}");

        // Analysis warnings are what the aot and trimmed builds are measured for, so they are listed, not fatal.
        var info = new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", .. kind, "-o", output,
            "--artifacts-path", Path.Combine(work, "artifacts", build), "-nodeReuse:false", "-p:UseSharedCompilation=false",
            "-p:TreatWarningsAsErrors=false", .. extra])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var log = await stdout + await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"publish of {program} ({build}) failed:{Environment.NewLine}{log}");
        }

        var warnings = log.Split('\n').Where(l => l.Contains(": warning ", StringComparison.Ordinal))
            .Select(l => l.Trim()).Select(l => l[..Math.Min(l.Length, 300)]).Distinct().ToList();

        // What is copied to the Pi: symbols stay behind.
        var size = new DirectoryInfo(output).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => f.Extension is not ".pdb" and not ".dbg").Sum(f => f.Length);
        return build is "fd"
            ? ("dotnet", [Path.Combine(root, "samples", program, "bin", "Release", "net10.0", program + ".dll")], size, warnings)
            : (Path.Combine(output, program), [], size, warnings);
    }

    private static async Task<Measurement> MeasureAsync(Case @case, PrivateMosquitto broker, PrivateMariaDb? mariaDb, TimeSpan idle, int burst, string work)
    {
        var topic = $"footprint/{Guid.NewGuid():N}";
        var clientId = $"fp-{Guid.NewGuid():N}"[..16];
        string? database = null;
        List<string> arguments = [$"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}", $"--Mqtt:ClientId={clientId}"];
        switch (@case.Program)
        {
            case "Bme280Publisher":
                arguments.Add("--Sensor:Kind=simulated");
                break;
            case "MqttInsert":
                database = $"footprint_{Guid.NewGuid():N}"[..20];
                await ExecuteAsync(mariaDb!.ConnectionString, $"CREATE DATABASE `{database}`");
                arguments.Add($"--Database:ConnectionString={new MySqlConnectionStringBuilder(mariaDb.ConnectionString) { Database = database }.ConnectionString}");
                break;
            case "AmbientStation":
                // Its own defaults: embedded broker on a free port, a SQLite file (here a fresh one).
                arguments = [$"--Database:Path={Path.Combine(work, clientId + ".db")}"];
                break;
        }

        var clock = new Stopwatch();
        await using var collector = @case.Program is "Bme280Publisher" or "KeyboardPublisher" ? await Collector.StartAsync(broker, topic, clock) : null;
        clock.Start();
        await using var program = Sample.Start(@case, arguments);
        try
        {
            TimeSpan startUp;
            switch (@case.Program)
            {
                case "KeyboardPublisher":
                    await program.WriteLineAsync("hello from the footprint benchmark");
                    startUp = await collector!.FirstAsync(program);
                    break;
                case "Bme280Publisher":
                    startUp = await collector!.FirstAsync(program);
                    break;
                case "MqttInsert":
                    // Its session exists once it has subscribed, so readings go out every 100 ms until the first row.
                    await using (var feeder = await Feeder.StartAsync(broker, topic))
                    {
                        startUp = await program.FirstRowAsync(clock);
                    }

                    break;
                default:
                    startUp = await program.FirstRowAsync(clock);
                    break;
            }

            var rest = idle - clock.Elapsed;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }

            var (idleHwm, idleRss) = program.Memory();
            long burstHwm = 0;
            var burstTime = TimeSpan.Zero;
            if (@case.Program == "MqttInsert" && burst > 0)
            {
                burstTime = await BurstAsync(broker, topic, burst, program);
                burstHwm = program.Memory().Hwm;
            }

            program.Terminate();
            await program.WaitForExitAsync(TimeSpan.FromSeconds(30));
            return new Measurement(startUp, idleHwm, idleRss, burstHwm, burstTime);
        }
        finally
        {
            if (database is not null)
            {
                await ExecuteAsync(mariaDb!.ConnectionString, $"DROP DATABASE `{database}`");
            }
        }
    }

    private static async Task<TimeSpan> BurstAsync(PrivateMosquitto broker, string topic, int count, Sample program)
    {
        var file = Path.Combine(Path.GetTempPath(), $"ambient-footprint-{Guid.NewGuid():N}.jsonl");
        var start = Instant.FromUtc(2025, 1, 1, 0, 0);
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, count).Select(i =>
            AmbientPayload.EncodeToString(new AmbientReading(start + Duration.FromMilliseconds(i), 20 + (i % 1000) / 100.0, 50 + (i % 500) / 100.0, 1000 + (i % 300) / 100.0))));
        try
        {
            var before = program.Affected;
            var clock = Stopwatch.StartNew();

            // As in the ingest benchmark: mosquitto_pub -l of mosquitto 2.0.11 drops what it holds at end of input, so
            // its input stays open (sleep) until every row is in.
            using var publisher = Process.Start(new ProcessStartInfo("bash", ["-c", "exec mosquitto_pub -h \"$1\" -p \"$2\" -q 1 -t \"$3\" -l < <(cat \"$4\"; exec sleep 3600)",
                "publish", broker.Host, broker.Port.ToString(CultureInfo.InvariantCulture), topic, file]))!;
            while (program.Affected < before + count && clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(50);
            }

            publisher.Kill(entireProcessTree: true);
            await publisher.WaitForExitAsync();
            return program.Affected >= before + count ? clock.Elapsed : throw new TimeoutException($"{program.Affected - before} of {count} rows");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The repository: above the benchmark's build, else above the current directory.</summary>
    private static string SampleRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "AmbientMqtt.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException("AmbientMqtt.sln not found above the benchmark or the current directory");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Case(string Program, string Build, string Label, Dictionary<string, string> Environment, string Command, string[] Prefix, long Size);

    private sealed record Measurement(TimeSpan StartUp, long IdleHwmKb, long IdleRssKb, long BurstHwmKb, TimeSpan Burst);

    /// <summary>A sample program as its own process; stdout counted for committed rows.</summary>
    private sealed class Sample : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _tail = new();
        private readonly TaskCompletionSource<TimeSpan> _firstRow = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Stopwatch? _clock;
        private long _affected;

        private Sample(Process process) => _process = process;

        public long Affected => Interlocked.Read(ref _affected);

        public static Sample Start(Case @case, IEnumerable<string> arguments)
        {
            var info = new ProcessStartInfo(@case.Command, [.. @case.Prefix, .. arguments])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                WorkingDirectory = Path.GetTempPath(),
            };
            foreach (var (key, value) in @case.Environment)
            {
                info.Environment[key] = value;
            }

            var program = new Sample(new Process { StartInfo = info });
            program._process.OutputDataReceived += (_, e) => program.OnLine(e.Data);
            program._process.ErrorDataReceived += (_, e) => program.OnLine(e.Data is null ? null : "stderr: " + e.Data);
            program._process.Start();
            program._process.BeginOutputReadLine();
            program._process.BeginErrorReadLine();
            return program;
        }

        public async Task WriteLineAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }

        public async Task<TimeSpan> FirstRowAsync(Stopwatch clock)
        {
            _clock = clock;
            var first = await Task.WhenAny(_firstRow.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(2)));
            return first == _firstRow.Task ? await _firstRow.Task : throw new TimeoutException("no row: " + Tail());
        }

        public Task ExitedAsync() => _process.WaitForExitAsync();

        public (long Hwm, long Rss) Memory()
        {
            long hwm = 0, rss = 0;
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }

            return (hwm, rss);
        }

        public void Terminate() => Signals.Terminate(_process.Id);

        public async Task WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }

        public string Tail() => string.Join(Environment.NewLine, _tail);

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

            // " クエリを実行しました。(N row affected.)", per row or per batch summary.
            const string Affected = " クエリを実行しました。(";
            if (line.StartsWith(Affected, StringComparison.Ordinal))
            {
                var digits = line.AsSpan(Affected.Length);
                var end = digits.IndexOf(' ');
                Interlocked.Add(ref _affected, long.Parse(digits[..end], CultureInfo.InvariantCulture));
                if (_clock is { } clock)
                {
                    _firstRow.TrySetResult(clock.Elapsed);
                }

                return;
            }

            _tail.Enqueue(line);
            while (_tail.Count > 20)
            {
                _tail.TryDequeue(out _);
            }
        }
    }

    /// <summary>Receives what a publisher sends, and when the first message came.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly TaskCompletionSource<TimeSpan> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<Collector> StartAsync(PrivateMosquitto broker, string topic, Stopwatch clock)
        {
            var collector = new Collector();
            collector._client.ApplicationMessageReceivedAsync += _ =>
            {
                collector._first.TrySetResult(clock.Elapsed);
                return Task.CompletedTask;
            };
            await collector._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).Build());
            await collector._client.SubscribeAsync(topic, MqttQualityOfServiceLevel.AtLeastOnce);
            return collector;
        }

        public async Task<TimeSpan> FirstAsync(Sample program)
        {
            var first = await Task.WhenAny(_first.Task, program.ExitedAsync(), Task.Delay(TimeSpan.FromMinutes(2)));
            return first == _first.Task ? await _first.Task : throw new TimeoutException("nothing published (the program exited or 2 minutes passed): " + program.Tail());
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisconnectAsync();
            _client.Dispose();
        }
    }

    /// <summary>Publishes one reading every 100 ms (QoS 1) until disposed.</summary>
    private sealed class Feeder : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly CancellationTokenSource _stop = new();
        private Task _loop = Task.CompletedTask;

        public static async Task<Feeder> StartAsync(PrivateMosquitto broker, string topic)
        {
            var feeder = new Feeder();
            await feeder._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).Build());
            feeder._loop = feeder.LoopAsync(topic);
            return feeder;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            await _client.DisconnectAsync();
            _client.Dispose();
            _stop.Dispose();
        }

        private async Task LoopAsync(string topic)
        {
            while (!_stop.IsCancellationRequested)
            {
                var payload = AmbientPayload.EncodeToString(new AmbientReading(SystemClock.Instance.GetCurrentInstant(), 21.5, 55.25, 1001.75));
                await _client.PublishStringAsync(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce);
                try
                {
                    await Task.Delay(100, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }
}
