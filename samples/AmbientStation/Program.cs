// AmbientStation: the whole tutorial in one process, with nothing to install. A sensor (simulated by default,
// --Sensor:Kind=bme280 for the real one) is read every Publish:Interval and published as JSON; an MQTT broker inside the
// program (127.0.0.1 only, on a free port unless Mqtt:Port says otherwise) hands each reading to the subscriber; the
// ingest pipeline stores it in a SQLite file, acknowledging it only after the commit. Each part switches to the real
// thing by configuration: --Mqtt:Host=… (or --Mqtt:Embedded=false) for mosquitto, --Database:Provider=MariaDb for
// MariaDB. It prints what the tutorial's two programs print, and where the rows are.
using AmbientMqtt;
using AmbientMqtt.Dashboard;
using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MySqlConnector;

// Settings beside the program (appsettings.json), whatever the current directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory }).UseAmbientConsole();

// This program's defaults, first, so that appsettings.json, the environment and the command line override them.
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?>
    {
        ["Sensor:Kind"] = "simulated",
        ["Database:Provider"] = "Sqlite",
        ["Mqtt:ClientId"] = $"AmbientStation-{Environment.MachineName}",
    },
});
var configuration = builder.Configuration;

// Embedded unless a broker is named: --Mqtt:Host=… alone means "use that broker".
if (!bool.TryParse(configuration["Mqtt:Embedded"] ?? (configuration["Mqtt:Host"] is null ? "true" : "false"), out var embedded))
{
    Console.Error.WriteLine($"configuration error: Mqtt:Embedded: must be true or false (got '{configuration["Mqtt:Embedded"]}')");
    return 2;
}

var provider = configuration["Database:Provider"];
var sqlite = string.Equals(provider, "Sqlite", StringComparison.OrdinalIgnoreCase);
if (!sqlite && !string.Equals(provider, "MariaDb", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"configuration error: Database:Provider: must be 'Sqlite' or 'MariaDb' (got '{provider}')");
    return 2;
}

if (embedded)
{
    // A free port unless one is asked for, so that a running mosquitto or a second station never clash with it.
    configuration.Sources.Insert(1, new MemoryConfigurationSource { InitialData = new Dictionary<string, string?> { ["Mqtt:Port"] = "0" } });
    builder.Services.AddAmbientEmbeddedBroker(configuration);
}

// Started in this order and stopped in the reverse one: the broker, the subscriber and the table before the first
// reading is published; at the end the sensor stops, the publisher sends what it holds, the station waits until the
// subscriber has stored it, and only then the ingest and the broker stop.
builder.Services.AddAmbientMqttSubscriber(configuration);
_ = sqlite ? builder.Services.AddAmbientSqlite(configuration) : builder.Services.AddAmbientMariaDb(configuration);
builder.Services.AddAmbientIngest(configuration);
builder.Services.AddAmbientDashboardServer(configuration);   // Dashboard:Urls, http://127.0.0.1:8080 (or a free port) by default
builder.Services.AddHostedService(sp => new Sequencing(
    sp.GetRequiredService<MqttReadingSubscriber>(), sp.GetRequiredService<MqttReadingPublisher>(), sp.GetRequiredService<IngestPipeline>(), embedded));
builder.Services
    .AddAmbientSensor(configuration)
    .AddAmbientMqttPublisher(configuration)
    .AddAmbientPublishing(configuration);

// Two clients in one process need two client ids: the publisher's ends in -pub.
builder.Services.PostConfigure<MqttPublisherOptions>(o => o.ClientId += "-pub");

using var host = builder.Build();
using var output = new TutorialRowPrinter(Console.OpenStandardOutput());
IngestPipeline? pipeline = null;
MqttReadingPublisher? publisher = null;
var exitCode = await host.RunAmbientAsync(services =>
{
    var subscriber = services.GetRequiredService<MqttReadingSubscriber>();
    publisher = services.GetRequiredService<MqttReadingPublisher>();
    pipeline = services.GetRequiredService<IngestPipeline>();
    var publishing = services.GetRequiredService<PublishingPipeline>();
    // The embedded broker's line (with a command to watch it) once it listens: the subscriber's first connection says so.
    var brokerLine = embedded
        ? $"MQTT broker:  embedded, {subscriber.Endpoint} (watch it: mosquitto_sub -V mqttv5 -h 127.0.0.1 -p {subscriber.Endpoint[(subscriber.Endpoint.LastIndexOf(':') + 1)..]} -t {publisher.Topic})"
        : $"MQTT broker:  {subscriber.Endpoint}";
    if (!embedded)
    {
        output.Line(brokerLine);
    }

    if (sqlite)
    {
        var repository = services.GetRequiredService<SqliteAmbientRepository>();
        output.Line($"SQLite database:  {repository.DatabasePath}");
        output.Line($"see the rows:  sqlite3 '{repository.DatabasePath.Replace("'", "'\\''", StringComparison.Ordinal)}' \"SELECT * FROM {repository.Table} ORDER BY timestamp DESC LIMIT 10\"");
    }
    else
    {
        var target = new MySqlConnectionStringBuilder(services.GetRequiredService<MySqlDataSource>().ConnectionString);
        output.Line($"MariaDB:  {target.Server}:{target.Port}/{target.Database}, table {services.GetRequiredService<MariaDbAmbientRepository>().Table}");
    }

    services.GetRequiredService<AmbientDashboardService>().Started += (_, url) => output.Line($"dashboard:  {url}");
    var first = true;
    subscriber.Connected += (_, e) =>
    {
        if (first)
        {
            first = false;
            if (embedded)
            {
                output.Line(brokerLine);
            }

            output.Line("db server connected");
            output.Line("mqtt server connected");
            output.Line("waiting for mqtt message");
        }

        output.Line($"Connected with result code {e.ResultCode}");
    };
    publisher.Connected += (_, e) => output.Line($"Connected with result code {e.ResultCode}");
    publishing.ReadingPublished += (_, e) => output.Line($"publish するデータ:  {AmbientPayload.EncodeToString(e.Reading)}");
    pipeline.BatchCommitted += (_, e) => output.Print(e.Result, e.MoreWaiting);
});

if (pipeline is not null && publisher is not null)
{
    output.Line($"stopped: {publisher.Published} reading(s) published, {pipeline.Inserted} row(s) inserted, {pipeline.Duplicates} duplicate(s) skipped, {pipeline.Rejected} payload(s) rejected");
}

return exitCode;

/// <summary>
/// Holds the publisher back until the subscriber has subscribed: the embedded broker, which starts empty every time,
/// would have nobody to keep a reading for. (An external broker keeps the subscriber's persistent session, so there the
/// wait is short: a broker that is down must not keep the sensor from measuring; the publisher queues.) At the end it
/// holds the ingest until it has stored what the publisher sent: the embedded broker keeps messages in memory only.
/// </summary>
internal sealed class Sequencing(MqttReadingSubscriber subscriber, MqttReadingPublisher publisher, IngestPipeline pipeline, bool embedded) : IHostedService
{
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        subscriber.Connected += (_, _) => _subscribed.TrySetResult();
        if (subscriber.IsConnected)
        {
            return;
        }

        var wait = _subscribed.Task.WaitAsync(cancellationToken);
        if (!embedded)
        {
            wait = Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
        }

        await wait;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!await pipeline.WaitForProcessedAsync(publisher.Published, TimeSpan.FromSeconds(10), cancellationToken))
        {
            Console.Error.WriteLine($"warning: {publisher.Published - pipeline.Processed} published reading(s) were not stored before exit");
        }
    }
}
