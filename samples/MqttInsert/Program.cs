// MqttInsert: the tutorial's mqtt_bme280_insert01.py. It subscribes to Mqtt:Topic (raspi/bme) and stores one row per
// reading in MariaDB (Database:Table, default Ambient), converting the time to Database:TimeZone (Asia/Tokyo) and
// rounding to 2 decimals as the tutorial does. Each message is acknowledged only after its row is committed, so a
// crash, a broker restart or a database restart loses nothing, and a redelivery is a no-op. With --Mqtt:Embedded=true
// the MQTT broker runs inside this program (on Mqtt:Port, 127.0.0.1 only), so the tutorial's set-up needs no mosquitto.
// Exit codes: 0 stopped cleanly, 1 needs a person (login, database, privilege), 2 a bad setting.
using AmbientMqtt.Dashboard;
using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Settings beside the program (appsettings.json), whatever the current directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory }).UseAmbientConsole();
if (!bool.TryParse(builder.Configuration["Mqtt:Embedded"] ?? "false", out var embedded))
{
    Console.Error.WriteLine($"configuration error: Mqtt:Embedded: must be true or false (got '{builder.Configuration["Mqtt:Embedded"]}')");
    return 2;
}

if (embedded)
{
    builder.Services.AddAmbientEmbeddedBroker(builder.Configuration);   // before the subscriber, so it starts first
}

builder.Services
    .AddAmbientMqttSubscriber(builder.Configuration)  // Mqtt:Host, Mqtt:Port, Mqtt:Topic, Mqtt:ClientId, …
    .AddAmbientMariaDb(builder.Configuration)         // Database:ConnectionString, Database:Table, Database:TimeZone, Identifier
    .AddAmbientIngest(builder.Configuration);         // Ingest:MaxBatchSize, …
if (builder.Configuration["Dashboard:Urls"] is not null)
{
    builder.Services.AddAmbientDashboardServer(builder.Configuration);   // the charts, on Dashboard:Urls
}

using var host = builder.Build();
using var output = new TutorialRowPrinter(Console.OpenStandardOutput());
IngestPipeline? pipeline = null;
var exitCode = await host.RunAmbientAsync(services =>
{
    pipeline = services.GetRequiredService<IngestPipeline>();
    var subscriber = services.GetRequiredService<MqttReadingSubscriber>();
    services.GetRequiredService<MariaDbAmbientRepository>();
    if (embedded)
    {
        output.Line($"embedded MQTT broker listening on {services.GetRequiredService<EmbeddedBroker>().Endpoint}");
    }

    pipeline.BatchCommitted += (_, e) => output.Print(e.Result, e.MoreWaiting);
    if (services.GetService<AmbientDashboardService>() is { } dashboard)
    {
        dashboard.Started += (_, url) => output.Line($"dashboard:  {url}");
    }

    // The subscriber starts once the table is ready, so its first connection means both are there.
    var first = true;
    subscriber.Connected += (_, e) =>
    {
        if (first)
        {
            first = false;
            output.Line("db server connected");
            output.Line("mqtt server connected");
            output.Line("waiting for mqtt message");
        }

        output.Line($"Connected with result code {e.ResultCode}");
    };
});

if (pipeline is not null)
{
    output.Line($"stopped: {pipeline.Inserted} row(s) inserted, {pipeline.Duplicates} duplicate(s) skipped, {pipeline.Rejected} payload(s) rejected, {pipeline.Missing} reading(s) missing");
}

return exitCode;
