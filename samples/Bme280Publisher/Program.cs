// Bme280Publisher: the tutorial's mqtt_bme280_publish02.py. Every Publish:Interval it reads the BME280 (or, with
// --Sensor:Kind=simulated, a simulated sensor), prints the JSON and publishes it to Mqtt:Topic (raspi/bme).
// Readings taken while the broker is away are queued and sent after the reconnect.
using AmbientMqtt;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Samples;
using AmbientMqtt.Sensors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = SampleHost.CreateBuilder(args, new Dictionary<string, string?>());

MqttOptions mqtt;
SensorOptions sensorOptions;
Bme280Options bme280Options;
PublishOptions publish;
try
{
    mqtt = SampleHost.Bind<MqttOptions>(builder.Configuration, "Mqtt");
    sensorOptions = SampleHost.Bind<SensorOptions>(builder.Configuration, "Sensor");
    bme280Options = SampleHost.Bind<Bme280Options>(builder.Configuration, "Sensor");
    publish = SampleHost.Bind<PublishOptions>(builder.Configuration, "Publish");
    var problems = mqtt.Validate().Concat(sensorOptions.Validate()).Concat(publish.Validate()).ToList();
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
var log = loggers.CreateLogger("Bme280Publisher");
var stopping = lifetime.ApplicationStopping;

var sensor = SampleSensor.Open(sensorOptions, bme280Options);
if (sensor is null)
{
    await host.StopAsync();
    return 1;
}

await using var publisher = new MqttReadingPublisher(mqtt, loggers.CreateLogger<MqttReadingPublisher>());
publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
try
{
    await publisher.StartAsync(stopping);
}
catch (MqttConnectionException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    return 0;
}

Console.WriteLine($"Destination Host:  {mqtt.Host}");
Console.WriteLine($"TOPIC:  {mqtt.Topic}");

using var timer = new PeriodicTimer(publish.Interval);
try
{
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
        Console.WriteLine($"publish するデータ:  {System.Text.Encoding.UTF8.GetString(payload)}");
        await publisher.PublishAsync(payload, stopping);
    }
    while (await timer.WaitForNextTickAsync(stopping));
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
}

var flushed = await publisher.FlushAsync(TimeSpan.FromSeconds(10));
(sensor as IDisposable)?.Dispose();
await host.StopAsync();
if (!flushed)
{
    Console.Error.WriteLine($"warning: {publisher.Pending} reading(s) could not be delivered to {publisher.Endpoint} before exit");
}

return 0;
