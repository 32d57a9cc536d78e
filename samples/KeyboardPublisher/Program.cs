// KeyboardPublisher: the tutorial's mqtt_publish01.py. Every line typed (or piped in) is published as it is to
// Mqtt:Topic (tochigi/iot999/message). End of input or Ctrl+C exits 0 once what was typed has reached the broker.
using System.Text;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = SampleHost.CreateBuilder(args, new Dictionary<string, string?>
{
    ["Mqtt:Topic"] = "tochigi/iot999/message",
});

MqttOptions mqtt;
try
{
    mqtt = SampleHost.Bind<MqttOptions>(builder.Configuration, "Mqtt");
    var problems = mqtt.Validate();
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
var logger = host.Services.GetRequiredService<ILogger<MqttReadingPublisher>>();

await using var publisher = new MqttReadingPublisher(mqtt, logger);
publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
try
{
    await publisher.StartAsync(lifetime.ApplicationStopping);
}
catch (MqttConnectionException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

Console.WriteLine($"Destination Host:  {mqtt.Host}");
Console.WriteLine($"TOPIC:  {mqtt.Topic}");

// Console.ReadLine cannot be cancelled, so it runs beside the wait for Ctrl+C / SIGTERM.
var stopped = Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping).ContinueWith(_ => (string?)null, TaskScheduler.Default);
while (true)
{
    Console.Write("message: ");
    var read = Task.Run(Console.ReadLine);
    var line = await await Task.WhenAny(read, stopped);
    if (line is null)
    {
        break;
    }

    await publisher.PublishAsync(Encoding.UTF8.GetBytes(line));
}

Console.WriteLine();
var flushed = await publisher.FlushAsync(TimeSpan.FromSeconds(10));
await host.StopAsync();
if (!flushed)
{
    Console.Error.WriteLine($"error: {publisher.Pending} message(s) could not be delivered to {publisher.Endpoint}");
    return 1;
}

return 0;
