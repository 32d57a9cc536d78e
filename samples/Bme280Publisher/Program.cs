// Bme280Publisher: the tutorial's mqtt_bme280_publish02.py. Every Publish:Interval it reads the BME280 (or, with
// --Sensor:Kind=simulated, a simulated sensor) and publishes the JSON to Mqtt:Topic (raspi/bme); it prints the
// tutorial's lines. Readings taken while the broker is away wait (in a spool on disk with Publish:SpoolPath) and go out
// after the reconnect; Ctrl+C or SIGTERM waits for them, then exits 0. Exit code 1 needs a person (a sensor that cannot
// be opened, a broker that refuses the login), 2 is a bad setting.
using AmbientMqtt;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Settings beside the program (appsettings.json), whatever the current directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory }).UseAmbientConsole();
builder.Services
    .AddAmbientSensor(builder.Configuration)          // Sensor:Kind, Sensor:BusId, Sensor:Address, offsets
    .AddAmbientMqttPublisher(builder.Configuration)   // Mqtt:Host, Mqtt:Port, Mqtt:Topic, …
    .AddAmbientPublishing(builder.Configuration);     // Publish:Interval, Publish:Identifier

using var host = builder.Build();
return await host.RunAmbientAsync(services =>
{
    // Resolving checks the settings and opens the sensor, before anything connects.
    var publisher = services.GetRequiredService<MqttReadingPublisher>();
    var publishing = services.GetRequiredService<PublishingPipeline>();
    publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
    publishing.ReadingPublished += (_, e) => Console.WriteLine($"publish するデータ:  {AmbientPayload.EncodeToString(e.Reading)}");
    Console.WriteLine($"Destination Host:  {publisher.Host}");
    Console.WriteLine($"TOPIC:  {publisher.Topic}");
});
