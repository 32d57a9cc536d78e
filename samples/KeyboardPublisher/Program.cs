// KeyboardPublisher: the tutorial's mqtt_publish01.py on AmbientMqtt's hosting extensions. Every line typed (or piped
// in) is published as it is to Mqtt:Topic (tochigi/iot999/message). End of input or Ctrl+C exits 0 once what was typed
// has reached the broker, 1 if it could not.
using System.Text;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

var builder = SampleHost.CreateBuilder(args, new Dictionary<string, string?>
{
    ["Mqtt:Topic"] = "tochigi/iot999/message",
});
builder.Services.AddAmbientMqttPublisher(builder.Configuration);

using var host = builder.Build();
try
{
    var mqtt = host.Services.GetRequiredService<IOptions<MqttOptions>>().Value;
    var publisher = host.Services.GetRequiredService<MqttReadingPublisher>();
    publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");

    await host.StartAsync();
    Console.WriteLine($"Destination Host:  {mqtt.Host}");
    Console.WriteLine($"TOPIC:  {mqtt.Topic}");

    // Console.ReadLine cannot be cancelled, so it runs beside the wait for Ctrl+C / SIGTERM.
    var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
    var stopped = Task.Delay(Timeout.Infinite, stopping).ContinueWith(_ => (string?)null, TaskScheduler.Default);
    while (true)
    {
        Console.Write("message: ");
        var line = await await Task.WhenAny(Task.Run(Console.ReadLine), stopped);
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
}
catch (Exception ex) when (SampleHost.TryReport(ex, out var exitCode))
{
    return exitCode;
}

return 0;
