// AmbientStation: the whole tutorial in one process, with nothing to install. A sensor (simulated by default,
// --Sensor:Kind=bme280 for the real one) is read every Publish:Interval and published as JSON; an MQTT broker inside the
// program (127.0.0.1 only, on a free port unless Mqtt:Port says otherwise) hands each reading to the subscriber; the
// ingest pipeline stores it in a SQLite file, acknowledging it only after the commit. Each part switches to the real
// thing by configuration: --Mqtt:Host=… (or --Mqtt:Embedded=false) for mosquitto, --Database:Provider=MariaDb for
// MariaDB. It prints what the tutorial's two programs print, and where the rows are.
using System.Text;
using AmbientMqtt;
using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Samples;
using AmbientMqtt.Sensors;
using AmbientMqtt.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MySqlConnector;

var builder = SampleHost.CreateBuilder(args, new Dictionary<string, string?>
{
    ["Sensor:Kind"] = SensorOptions.Simulated,
    ["Database:Provider"] = "Sqlite",
    ["Database:ConnectionString"] = "Server=localhost;Port=3306;Database=iot_storage;User ID=iot",
});
var configuration = builder.Configuration;

MqttOptions subscribing;
MqttOptions publishing;
EmbeddedBrokerOptions? embedded = null;
SensorOptions sensorOptions;
Bme280Options bme280Options;
PublishOptions publish;
IngestOptions ingest;
SqliteRepositoryOptions? sqlite = null;
MariaDbRepositoryOptions? mariaDb = null;
MySqlDataSource? dataSource = null;
try
{
    // Two clients in one process: bound twice from the same section, given two client ids (one id, two connections,
    // and the broker would keep throwing one of them out).
    subscribing = SampleHost.Bind<MqttOptions>(configuration, "Mqtt");
    publishing = SampleHost.Bind<MqttOptions>(configuration, "Mqtt");
    sensorOptions = SampleHost.Bind<SensorOptions>(configuration, "Sensor");
    bme280Options = SampleHost.Bind<Bme280Options>(configuration, "Sensor");
    publish = SampleHost.Bind<PublishOptions>(configuration, "Publish");
    ingest = SampleHost.Bind<IngestOptions>(configuration, "Ingest");

    var problems = new List<string>();

    // Embedded unless a broker is named: --Mqtt:Host=… alone means "use that broker".
    if (EmbeddedBrokerSetup.IsEnabled(configuration, defaultValue: configuration["Mqtt:Host"] is null))
    {
        embedded = EmbeddedBrokerSetup.Prepare(configuration, problems, defaultPort: 0, subscribing, publishing);
    }

    var clientId = subscribing.ClientId ?? $"AmbientStation-{Environment.MachineName}";
    subscribing.ClientId = clientId.Length <= 196 ? clientId : clientId[..196];
    publishing.ClientId = subscribing.ClientId + "-pub";
    problems.AddRange(subscribing.Validate());
    problems.AddRange(sensorOptions.Validate());
    problems.AddRange(publish.Validate());

    var provider = configuration["Database:Provider"];
    if (string.Equals(provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
    {
        sqlite = SampleHost.Bind<SqliteRepositoryOptions>(configuration, "Database");
        sqlite.Identifier = configuration["Identifier"] ?? sqlite.Identifier;
        problems.AddRange(sqlite.Validate());
    }
    else if (string.Equals(provider, "MariaDb", StringComparison.OrdinalIgnoreCase))
    {
        mariaDb = SampleHost.Bind<MariaDbRepositoryOptions>(configuration, "Database");
        mariaDb.Identifier = configuration["Identifier"] ?? mariaDb.Identifier;
        problems.AddRange(mariaDb.Validate());
        try
        {
            dataSource = new MySqlDataSourceBuilder(configuration["Database:ConnectionString"]).Build();
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword, never the password.
            problems.Add($"Database:ConnectionString: {ex.Message}");
        }
    }
    else
    {
        problems.Add($"Database:Provider: must be 'Sqlite' or 'MariaDb' (got '{provider}')");
    }

    if (problems.Count > 0)
    {
        return SampleHost.ReportConfigurationError(problems[0]);
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
var log = loggers.CreateLogger("AmbientStation");
var stopping = lifetime.ApplicationStopping;
using var output = new RowPrinter(Console.OpenStandardOutput());

EmbeddedBroker? broker = null;
if (embedded is not null)
{
    try
    {
        broker = await EmbeddedBrokerSetup.StartAsync(embedded, loggers, CancellationToken.None, subscribing, publishing);
    }
    catch (EmbeddedBrokerException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        await host.StopAsync();
        return 1;
    }
}

// Disposed last, once both clients have disconnected.
await using var brokerScope = broker;
await using var dataSourceScope = dataSource;

var sensor = SampleSensor.Open(sensorOptions, bme280Options);
if (sensor is null)
{
    await host.StopAsync();
    return 1;
}

using var sqliteRepository = sqlite is null ? null : new SqliteAmbientRepository(sqlite, loggers.CreateLogger<SqliteAmbientRepository>());
await using var mariaDbRepository = sqlite is null ? new MariaDbAmbientRepository(dataSource!, mariaDb!, loggers.CreateLogger<MariaDbAmbientRepository>()) : null;
IAmbientRepository repository = (IAmbientRepository?)sqliteRepository ?? mariaDbRepository!;

output.Line(broker is null
    ? $"MQTT broker:  {subscribing.Host}:{subscribing.Port}"
    : $"MQTT broker:  embedded, {broker.Endpoint} (watch it: mosquitto_sub -h 127.0.0.1 -p {broker.Port} -t {subscribing.Topic})");
if (sqliteRepository is not null)
{
    output.Line($"SQLite database:  {sqliteRepository.DatabasePath}");
    output.Line($"see the rows:  sqlite3 '{sqliteRepository.DatabasePath.Replace("'", "'\\''", StringComparison.Ordinal)}' \"SELECT * FROM {sqliteRepository.Table} ORDER BY timestamp DESC LIMIT 10\"");
}
else
{
    var target = new MySqlConnectionStringBuilder(dataSource!.ConnectionString);
    output.Line($"MariaDB:  {target.Server}:{target.Port}/{target.Database}, table {mariaDb!.Table}");
}

await using var subscriber = new MqttReadingSubscriber(subscribing, loggers.CreateLogger<MqttReadingSubscriber>());
var pipeline = new IngestPipeline(subscriber, repository, ingest, loggers.CreateLogger<IngestPipeline>());
pipeline.BatchCommitted += (_, e) => output.Print(e.Result, e.MoreWaiting);
subscriber.Connected += (_, e) => output.Line($"Connected with result code {e.ResultCode}");
await using var publisher = new MqttReadingPublisher(publishing, loggers.CreateLogger<MqttReadingPublisher>());
publisher.Connected += (_, e) => output.Line($"Connected with result code {e.ResultCode}");

// The pipeline has its own stop: on Ctrl+C it must keep storing until what was published has arrived.
using var pipelineStop = new CancellationTokenSource();
Task? pipelineRun = null;
var exitCode = 0;
try
{
    await pipeline.PrepareAsync(stopping);
    output.Line("db server connected");

    // Subscribed before the first reading is published, so that none goes to a broker with no subscriber.
    await subscriber.StartAsync(stopping);
    output.Line("mqtt server connected");
    output.Line("waiting for mqtt message");
    pipelineRun = RunPipelineAsync();

    await publisher.StartAsync(stopping);
    output.Line($"Destination Host:  {publishing.Host}");
    output.Line($"TOPIC:  {publishing.Topic}");

    using var timer = new PeriodicTimer(publish.Interval);
    do
    {
        AmbientReading reading;
        try
        {
            reading = await sensor.ReadAsync(stopping);
        }
        catch (SensorException ex)
        {
            // A bad read (loose wire, bus glitch) is reported and the next interval tries again.
            log.LogError("Reading the sensor failed: {Reason}", ex.Message);
            continue;
        }

        if (publish.Identifier is not null)
        {
            reading = reading with { Identifier = publish.Identifier };
        }

        var payload = AmbientPayload.Encode(reading);
        output.Line($"publish するデータ:  {Encoding.UTF8.GetString(payload)}");

        // Never cancelled: a reading printed is a reading published.
        await publisher.PublishAsync(payload, CancellationToken.None);
    }
    while (await timer.WaitForNextTickAsync(stopping));
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
}
catch (AmbientStorageException ex) when (!ex.IsTransient)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    exitCode = 1;
}
catch (MqttConnectionException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    exitCode = 1;
}

// Stopping: the sensor loop is over; send what is queued, let the subscriber store what the broker holds for it (the
// embedded broker keeps it in memory only), then stop the pipeline, which commits and acknowledges what it holds.
if (!await publisher.FlushAsync(TimeSpan.FromSeconds(10)))
{
    Console.Error.WriteLine($"warning: {publisher.Pending} reading(s) could not be delivered to {publisher.Endpoint} before exit");
}

if (pipelineRun is not null)
{
    var drain = Task.Delay(TimeSpan.FromSeconds(10));
    while (pipeline.Inserted + pipeline.Duplicates + pipeline.Rejected < publisher.Published && !pipelineRun.IsCompleted && !drain.IsCompleted)
    {
        await Task.Delay(20);
    }

    await pipelineStop.CancelAsync();
    try
    {
        await pipelineRun;
    }
    catch (AmbientStorageException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        exitCode = 1;
    }
}

(sensor as IDisposable)?.Dispose();
output.Line($"stopped: {publisher.Published} reading(s) published, {pipeline.Inserted} row(s) inserted, {pipeline.Duplicates} duplicate(s) skipped, {pipeline.Rejected} payload(s) rejected");
await host.StopAsync();
return exitCode;

async Task RunPipelineAsync()
{
    try
    {
        await pipeline.RunAsync(pipelineStop.Token);
    }
    finally
    {
        // The pipeline gave up on its own (a database that refuses for good): stop the program.
        if (!pipelineStop.IsCancellationRequested)
        {
            lifetime.StopApplication();
        }
    }
}
