using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The publishers as a Pi Zero 2 W runs them best: Native AOT (11 MB idle against 48 MB for <c>dotnet X.dll</c>,
/// benchmarks/README.md). A trimmed build that publishes with no warning must still read every setting: the
/// configuration binder's reflection is gone there (an AOT build of an earlier commit ignored them all), and
/// <c>Sensor:Address</c> is written in hex (<c>"0x76"</c> in the sample's appsettings.json), which the source-generated
/// binder alone would refuse. Run on their own with <c>--filter-trait "Category=Publish"</c>.
/// </summary>
[Trait("Category", "Publish")]
public sealed class NativeAotPublisherTests(NativeAotBuilds builds, MqttServer broker) : IClassFixture<NativeAotBuilds>
{
    private const string Printed = "publish するデータ:  ";

    [Fact]
    public async Task Bme280Publisher_NativeAot_PublishesSimulatedReadingsAndStopsCleanly()
    {
        broker.RequireAvailable();
        var executable = await builds.PublishAsync("Bme280Publisher");
        var topic = $"test/{Guid.NewGuid():N}/bme";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await using var program = SampleProcess.StartExecutable(executable, [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100",
            $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}"]);

        var received = await collector.WaitForCountAsync(5, TimeSpan.FromSeconds(30));
        program.Terminate();
        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0, program.Describe());
        received.Should().HaveCountGreaterThanOrEqualTo(5, program.Describe());
        program.Output.Where(l => l.StartsWith(Printed, StringComparison.Ordinal)).Select(l => l[Printed.Length..]).Should().Contain(received);
        program.Output.Should().Contain("Connected with result code 0").And.Contain($"Destination Host:  {broker.Host}").And.Contain($"TOPIC:  {topic}");
    }

    [Theory]
    [InlineData(null, "0x76")]     // the sample's appsettings.json: "Address": "0x76"
    [InlineData("0x77", "0x77")]   // Sensor__Address=0x77, in the form deploy/systemd/bme280-publisher.env.example writes it
    [InlineData("119", "0x77")]
    public async Task Bme280Publisher_NativeAot_ReadsTheAddressInHexOrDecimal(string? environment, string opened)
    {
        var executable = await builds.PublishAsync("Bme280Publisher");
        await using var program = SampleProcess.StartExecutable(
            executable, ["--Sensor:BusId=250", "--Mqtt:Port=1"], environment is null ? null : new Dictionary<string, string> { ["Sensor__Address"] = environment });

        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // 1, the sensor (no bus 250 here) at the address it read; not 2, a setting it could not read.
        exitCode.Should().Be(1, program.Describe());
        program.Errors.Should().ContainSingle(program.Describe()).Which.Should().Contain("bus 250").And.Contain($"at {opened}:");
    }

    [Fact]
    public async Task Bme280Publisher_NativeAot_BadPort_StopsWithOneLineNamingTheKeyAndExitCode2()
    {
        var executable = await builds.PublishAsync("Bme280Publisher");
        await using var program = SampleProcess.StartExecutable(executable, ["--Sensor:Kind=simulated", "--Mqtt:Port=seventy"]);

        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(2, program.Describe());
        program.Errors.Should().ContainSingle().Which.Should().Be("configuration error: Mqtt:Port: 'seventy' is not a whole number");
    }

    [Fact]
    public async Task KeyboardPublisher_NativeAot_LinesTypedArriveInOrder()
    {
        broker.RequireAvailable();
        var executable = await builds.PublishAsync("KeyboardPublisher");
        var topic = $"test/{Guid.NewGuid():N}/message";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await using var program = SampleProcess.StartExecutable(executable, [$"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}"]);

        await program.WriteLineAsync("Hello MQTT!");
        await program.WriteLineAsync("こんにちは");
        program.CloseInput();
        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0, program.Describe());
        (await collector.WaitForCountAsync(2, TimeSpan.FromSeconds(10))).Should().Equal("Hello MQTT!", "こんにちは");
        program.Output.Should().Contain("Connected with result code 0").And.Contain($"TOPIC:  {topic}");
    }
}
