// AmbientMqtt benchmarks.
//   micro:  BenchmarkDotNet micro-benchmarks (payload decode/encode), with MemoryDiagnoser.
//           dotnet run -c Release --project benchmarks/AmbientMqtt.Benchmarks -- micro [BenchmarkDotNet options]
//   ingest: end to end. Starts a private mosquitto and MariaDB (or uses --mqtt host:port / --mariadb "connection string"),
//           runs the real MqttInsert as its own process, publishes N QoS 1 readings with mosquitto_pub -l, and reports
//           rows/s, MqttInsert's CPU µs per reading and peak RSS, lost and duplicated; then one reading every 100 ms to
//           measure publish→commit latency.
//           dotnet run -c Release --project benchmarks/AmbientMqtt.Benchmarks -- ingest --count 100000 --runs 3
//   dashboard: 10 nodes × 30 days of a reading per 5 s in a private MariaDB and a SQLite file, the dashboard's requests
//           over HTTP (30-day and 24-hour views, CSV of a day). See DashboardBenchmark.cs.
//           dotnet run -c Release --project benchmarks/AmbientMqtt.Benchmarks -- dashboard --runs 20
//   footprint: RSS idle and under a burst, start-up time and package size of the four samples, framework-dependent,
//           self-contained and Native AOT (FootprintBenchmark.cs).
//           dotnet run -c Release --project benchmarks/AmbientMqtt.Benchmarks -- footprint --runs 2
//   scaleout: rows/s with 1, 2 and 3 MqttInsert processes on one shared group, and standby subscribers' cost. See
//           ScaleOutBenchmark.cs.
using AmbientMqtt.Benchmarks;
using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "dashboard")
{
    return await DashboardBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "footprint")
{
    return await FootprintBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "scaleout")
{
    return await ScaleOutBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "ingest")
{
    return await IngestBenchmark.RunAsync(args[1..]);
}

var rest = args.Length > 0 && args[0] == "micro" ? args[1..] : args;
BenchmarkSwitcher.FromAssembly(typeof(PayloadBenchmarks).Assembly).Run(rest);
return 0;
