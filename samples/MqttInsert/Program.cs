// MqttInsert: the tutorial's mqtt_bme280_insert01.py. It subscribes to Mqtt:Topic (raspi/bme) and stores one row per
// reading in MariaDB (Database:Table, default Ambient), converting the time to Database:TimeZone (Asia/Tokyo) and
// rounding to 2 decimals as the tutorial does. Each message is acknowledged only after its row is committed, so a
// crash, a broker restart or a database restart loses nothing, and a redelivery is a no-op. With --Mqtt:Embedded=true
// the MQTT broker runs inside this program (on Mqtt:Port, 127.0.0.1 only), so the tutorial's set-up needs no mosquitto.
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
EmbeddedBrokerOptions? embedded = null;
try
{
    mqtt = SampleHost.Bind<MqttOptions>(builder.Configuration, "Mqtt");
    storage = SampleHost.Bind<MariaDbRepositoryOptions>(builder.Configuration, "Database");
    ingest = SampleHost.Bind<IngestOptions>(builder.Configuration, "Ingest");
    storage.Identifier = builder.Configuration["Identifier"] ?? storage.Identifier;
    var problems = new List<string>();
    if (EmbeddedBrokerSetup.IsEnabled(builder.Configuration, defaultValue: false))
    {
        embedded = EmbeddedBrokerSetup.Prepare(builder.Configuration, problems, defaultPort: 1883, mqtt);
    }

    problems.AddRange(mqtt.Validate().Concat(storage.Validate()));
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

EmbeddedBroker? broker = null;
if (embedded is not null)
{
    try
    {
        broker = await EmbeddedBrokerSetup.StartAsync(embedded, loggers, CancellationToken.None, mqtt);
    }
    catch (EmbeddedBrokerException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        await host.StopAsync();
        return 1;
    }

    Console.WriteLine($"embedded MQTT broker listening on {broker.Endpoint}");
}

// Disposed last, after the subscriber has disconnected.
await using var brokerScope = broker;

await using (dataSource)
{
    await using var repository = new MariaDbAmbientRepository(dataSource, storage, loggers.CreateLogger<MariaDbAmbientRepository>());
    await using var subscriber = new MqttReadingSubscriber(mqtt, loggers.CreateLogger<MqttReadingSubscriber>());
    var pipeline = new IngestPipeline(subscriber, repository, ingest, loggers.CreateLogger<IngestPipeline>());
    using var output = new RowPrinter(Console.OpenStandardOutput());
    pipeline.BatchCommitted += (_, e) => output.Print(e.Result, e.MoreWaiting);
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
