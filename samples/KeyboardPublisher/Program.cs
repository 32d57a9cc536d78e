// KeyboardPublisher: the tutorial's mqtt_publish01.py. Every line typed (or piped in) is published as it is to
// Mqtt:Topic (tochigi/iot999/message). End of input or Ctrl+C stops it: exit code 0 once what was typed has reached
// the broker, 1 if it could not (said in one line), 2 for a bad setting.
using System.Text;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Settings beside the program (appsettings.json), whatever the current directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory }).UseAmbientConsole();
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
{
    // The tutorial's topic for this program; any other source overrides it.
    InitialData = new Dictionary<string, string?> { ["Mqtt:Topic"] = "tochigi/iot999/message" },
});
builder.Services.AddAmbientMqttPublisher(builder.Configuration);
builder.Services.AddHostedService<KeyboardLoop>();

using var host = builder.Build();
MqttReadingPublisher? publisher = null;
var exitCode = await host.RunAmbientAsync(services =>
{
    publisher = services.GetRequiredService<MqttReadingPublisher>();
    publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
    Console.WriteLine($"Destination Host:  {publisher.Host}");
    Console.WriteLine($"TOPIC:  {publisher.Topic}");
});

// The publisher said how many it could not deliver when the host stopped; the exit code says it too.
return exitCode == 0 && publisher is { Pending: > 0 } ? 1 : exitCode;

/// <summary>Reads lines until the end of input, publishing each, then stops the program.</summary>
internal sealed class KeyboardLoop(MqttReadingPublisher publisher, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Console.ReadLine cannot be cancelled, so it runs beside the wait for Ctrl+C / SIGTERM.
        var stopped = Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => (string?)null, TaskScheduler.Default);
        while (true)
        {
            // The tutorial's input("message: ").
            Console.Write("message: ");

            var line = await await Task.WhenAny(Task.Run(Console.ReadLine, CancellationToken.None), stopped);
            if (line is null)
            {
                break;
            }

            await publisher.PublishAsync(Encoding.UTF8.GetBytes(line), CancellationToken.None);
        }

        Console.WriteLine();
        lifetime.StopApplication();
    }
}
