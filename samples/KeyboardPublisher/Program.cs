// KeyboardPublisher: the tutorial's mqtt_publish01.py. Every line typed (or piped in) is published as it is to
// Mqtt:Topic (tochigi/iot999/message). End of input or Ctrl+C stops it: exit code 0 once what was typed has reached
// the broker, 1 if it could not (said in one line), 2 for a bad setting.
using System.Text;
using AmbientMqtt.Hosting;
using AmbientMqtt.Mqtt;

// AmbientHost rather than the generic host: the same settings (appsettings.json beside the program, the environment, the
// command line), checks and exit codes in less memory; and it runs as Native AOT. The tutorial's topic for this
// program is its default; any other source overrides it.
await using var host = AmbientHost.Create(args, [new("Mqtt:Topic", "tochigi/iot999/message")])
    .UseMqttPublisher();   // Mqtt:Host, Mqtt:Port, Mqtt:Topic, …

MqttReadingPublisher? publisher = null;
var exitCode = await host.RunAsync(
    host =>
    {
        publisher = host.MqttPublisher;
        publisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
        Console.WriteLine($"Destination Host:  {publisher.Host}");
        Console.WriteLine($"TOPIC:  {publisher.Topic}");
    },
    async stoppingToken =>
    {
        // Lines until the end of input; Console.ReadLine cannot be cancelled, so it runs beside the wait for Ctrl+C / SIGTERM.
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

            await host.MqttPublisher.PublishAsync(Encoding.UTF8.GetBytes(line), CancellationToken.None);
        }

        Console.WriteLine();
    });

// The publisher said how many it could not deliver when the program stopped; the exit code says it too.
return exitCode == 0 && publisher is { Pending: > 0 } ? 1 : exitCode;
