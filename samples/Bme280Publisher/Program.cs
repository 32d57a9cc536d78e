// Bme280Publisher: the tutorial's mqtt_bme280_publish02.py on AmbientMqtt's hosting extensions. Every Publish:Interval
// the publishing service reads the BME280 (or, with --Sensor:Kind=simulated, a simulated sensor) and publishes the JSON
// to Mqtt:Topic (raspi/bme); the program only prints the tutorial's lines. Readings taken while the broker is away are
// queued and sent after the reconnect; Ctrl+C or SIGTERM waits for the queue, then exits 0.
using AmbientMqtt;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

var builder = SampleHost.CreateBuilder(args, new Dictionary<string, string?>());
builder.Services
    .AddAmbientSensor(builder.Configuration)
    .AddAmbientMqttPublisher(builder.Configuration)
    .AddAmbientPublishing(builder.Configuration);

using var host = builder.Build();
try
{
    // Resolving checks the settings and opens the sensor, before anything connects.
    var mqtt = host.Services.GetRequiredService<IOptions<MqttOptions>>().Value;
    var publishing = host.Services.GetRequiredService<PublishingPipeline>();
    var publisher = host.Services.GetRequiredService<MqttReadingPublisher>();

    publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
    publishing.ReadingPublished += (_, e) => Console.WriteLine($"publish するデータ:  {AmbientPayload.EncodeToString(e.Reading)}");
    Console.WriteLine($"Destination Host:  {mqtt.Host}");
    Console.WriteLine($"TOPIC:  {mqtt.Topic}");

    await host.RunAsync();
}
catch (Exception ex) when (SampleHost.TryReport(ex, out var exitCode))
{
    return exitCode;
}

return Environment.ExitCode;
