// MqttInsert: the tutorial's mqtt_bme280_insert01.py. It subscribes to Mqtt:Topic (raspi/bme) and stores one row per
// reading in MariaDB (Database:Table, default Ambient), converting the time to Database:TimeZone (Asia/Tokyo) and
// rounding to 2 decimals as the tutorial does. Each message is acknowledged only after its row is committed, so a
// crash, a broker restart or a database restart loses nothing, and a redelivery is a no-op.
using System.Globalization;
using System.Text;
using AmbientMqtt;
using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Samples;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;

var builder = SampleHost.CreateBuilder(args, new Dictionary<string, string?>
{
    ["Database:ConnectionString"] = "Server=localhost;Port=3306;Database=iot_storage;User ID=iot",
});

MqttOptions mqtt;
MariaDbRepositoryOptions storage;
IngestOptions ingest;
MySqlDataSource dataSource;
try
{
    mqtt = SampleHost.Bind<MqttOptions>(builder.Configuration, "Mqtt");
    storage = SampleHost.Bind<MariaDbRepositoryOptions>(builder.Configuration, "Database");
    ingest = SampleHost.Bind<IngestOptions>(builder.Configuration, "Ingest");
    storage.Identifier = builder.Configuration["Identifier"] ?? storage.Identifier;
    var problems = mqtt.Validate().Concat(storage.Validate()).ToList();
    if (problems.Count > 0)
    {
        return SampleHost.ReportConfigurationError(problems[0]);
    }

    var connectionString = builder.Configuration["Database:ConnectionString"];
    if (string.IsNullOrWhiteSpace(connectionString))
    {
        return SampleHost.ReportConfigurationError("Database:ConnectionString: is empty");
    }

    try
    {
        dataSource = new MySqlDataSourceBuilder(connectionString).Build();
    }
    catch (ArgumentException ex)
    {
        // The message names the bad keyword, never the password.
        return SampleHost.ReportConfigurationError($"Database:ConnectionString: {ex.Message}");
    }
}
catch (ConfigurationException ex)
{
    return SampleHost.ReportConfigurationError(ex.Message);
}

using var host = builder.Build();
await host.StartAsync();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
var loggers = host.Services.GetRequiredService<ILoggerFactory>();
var stopping = lifetime.ApplicationStopping;

await using (dataSource)
{
    var repository = new MariaDbAmbientRepository(dataSource, storage, loggers.CreateLogger<MariaDbAmbientRepository>());
    await using var subscriber = new MqttReadingSubscriber(mqtt, loggers.CreateLogger<MqttReadingSubscriber>());
    var pipeline = new IngestPipeline(subscriber, repository, ingest, loggers.CreateLogger<IngestPipeline>());
    var output = new RowPrinter(Console.OpenStandardOutput());
    pipeline.BatchCommitted += (_, e) => output.Print(e.Result);
    subscriber.Connected += (_, e) => output.Line($"Connected with result code {e.ResultCode}");

    try
    {
        await pipeline.PrepareAsync(stopping);
        output.Line("db server connected");
        await subscriber.StartAsync(stopping);
        output.Line("mqtt server connected");
        output.Line("waiting for mqtt message");
        await pipeline.RunAsync(stopping);
    }
    catch (AmbientStorageException ex) when (!ex.IsTransient)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        await host.StopAsync();
        return 1;
    }
    catch (MqttConnectionException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        await host.StopAsync();
        return 1;
    }
    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
    {
    }

    output.Line($"stopped: {pipeline.Inserted} row(s) inserted, {pipeline.Duplicates} duplicate(s) skipped, {pipeline.Rejected} payload(s) rejected");
}

await host.StopAsync();
return 0;

/// <summary>
/// The tutorial's per-row lines, written through one buffer flushed per batch; a large batch (a backlog being drained)
/// gets one summary line instead of thousands nobody reads.
/// </summary>
internal sealed class RowPrinter(Stream stdout)
{
    private const int PerRowLimit = 20;
    private readonly StreamWriter _writer = new(stdout, new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
    private readonly Lock _gate = new();

    public void Line(string text)
    {
        lock (_gate)
        {
            _writer.WriteLine(text);
            _writer.Flush();
        }
    }

    public void Print(BatchWriteResult result)
    {
        lock (_gate)
        {
            if (result.Rows.Count <= PerRowLimit)
            {
                foreach (var row in result.Rows)
                {
                    if (row.Outcome == RowOutcome.Rejected)
                    {
                        continue;
                    }

                    _writer.Write("●NEW_DATA:  ");
                    _writer.WriteLine(Describe(row));
                    _writer.WriteLine($" クエリを実行しました。({(row.Outcome == RowOutcome.Inserted ? 1 : 0)} row affected.)");
                }
            }
            else
            {
                var rows = result.Rows.Where(r => r.Outcome != RowOutcome.Rejected).ToList();
                if (rows.Count > 0)
                {
                    _writer.WriteLine($"●NEW_DATA:  {rows.Count} rows, from {Describe(rows[0])} to {Describe(rows[^1])}");
                    _writer.WriteLine($" クエリを実行しました。({result.Inserted} row affected.)");
                }
            }

            _writer.Flush();
        }
    }

    private static string Describe(StoredRow row)
        => string.Create(CultureInfo.InvariantCulture, $"{{'timestamp': '{row.Timestamp:yyyy-MM-dd HH:mm:ss.ffffffzzz}', 'identifier': '{row.Identifier}', 'temperature': {Py(row.Temperature)}, 'humidity': {Py(row.Humidity)}, 'pressure': {Py(row.Pressure)}}}");

    // Python's repr of a float: 46.0, not 46.
    private static string Py(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
    }
}
