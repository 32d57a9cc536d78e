using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Samples;

public sealed partial class Bme280PublisherTests(MqttServer broker)
{
    private const string Printed = "publish するデータ:  ";

    [Fact]
    public async Task Simulated_100msInterval_PublishesContractPayloads()
    {
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}/bme";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await using var program = SampleProcess.Start("Bme280Publisher", [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100",
            $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}"]);

        var received = await collector.WaitForCountAsync(10, TimeSpan.FromSeconds(30));
        program.Terminate();
        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0, program.Describe());
        received.Should().HaveCountGreaterThanOrEqualTo(10, program.Describe());
        foreach (var payload in received)
        {
            TutorialPayload().IsMatch(payload).Should().BeTrue($"'{payload}' should look like the tutorial's payload");
            var reading = AmbientPayload.Decode(System.Text.Encoding.UTF8.GetBytes(payload));
            reading.Temperature.Should().BeInRange(-40, 85);
            reading.Humidity.Should().BeInRange(0, 100);
            reading.Pressure.Should().BeInRange(300, 1100);
            reading.Identifier.Should().BeNull("the tutorial's payload has no identifier");
        }

        // Every payload received was printed first, as the tutorial does.
        var printed = program.Output.Where(l => l.StartsWith(Printed, StringComparison.Ordinal)).Select(l => l[Printed.Length..]).ToList();
        printed.Should().Contain(received);
        program.Output.Should().Contain("Connected with result code 0").And.Contain($"TOPIC:  {topic}");

        // 100 ms apart, give or take the scheduler.
        var times = received.Select(p => AmbientPayload.Decode(System.Text.Encoding.UTF8.GetBytes(p)).Timestamp).ToList();
        times.Should().BeInAscendingOrder();
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        gaps.Average().Should().BeInRange(60, 250);
    }

    [Fact]
    public async Task MissingI2cBus_ExitsNonZeroNamingBusAddressAndSimulatedSensor()
    {
        await using var program = SampleProcess.Start("Bme280Publisher", ["--Sensor:BusId=250", "--Sensor:Address=0x77", "--Mqtt:Port=1"]);

        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().NotBe(0);
        var line = program.Errors.Should().ContainSingle(program.Describe()).Subject;
        line.Should().Contain("bus 250").And.Contain("0x77").And.Contain("Sensor:Kind=simulated");
    }

    [Fact]
    public async Task BrokerDownFor3Seconds_EveryReadingTakenStillArrives()
    {
        await using var server = await MqttServer.StartPrivateAsync();
        var topic = "test/restart/bme";
        await using var collector = await MqttCollector.StartAsync(server.Host, server.Port, topic);
        await using var program = SampleProcess.Start("Bme280Publisher", [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100",
            $"--Mqtt:Host={server.Host}", $"--Mqtt:Port={server.Port}", $"--Mqtt:Topic={topic}"]);
        await collector.WaitForCountAsync(10, TimeSpan.FromSeconds(30));

        await server.StopAsync();
        var printedBeforeOutage = program.CountOutput(l => l.StartsWith(Printed, StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var printedDuringOutage = program.CountOutput(l => l.StartsWith(Printed, StringComparison.Ordinal)) - printedBeforeOutage;
        await server.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        program.Terminate();
        (await program.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, program.Describe());

        var printed = program.Output.Where(l => l.StartsWith(Printed, StringComparison.Ordinal)).Select(l => l[Printed.Length..]).ToList();
        var received = await collector.WaitForCountAsync(printed.Count, TimeSpan.FromSeconds(20));
        printedDuringOutage.Should().BeGreaterThan(20, "readings go on while the broker is down");
        received.Distinct().Should().BeEquivalentTo(printed, program.Describe());
        program.Errors.Should().Contain(l => l.Contains("Lost the connection", StringComparison.Ordinal));
        program.Errors.Should().Contain(l => l.Contains("Reconnected", StringComparison.Ordinal));
    }

    // {"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": …, "pressure": …}
    [GeneratedRegex("""^\{"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", "temperature": -?\d+\.\d+(e-?\d+)?, "humidity": \d+\.\d+(e-?\d+)?, "pressure": \d+\.\d+(e-?\d+)?\}$""")]
    private static partial Regex TutorialPayload();
}
