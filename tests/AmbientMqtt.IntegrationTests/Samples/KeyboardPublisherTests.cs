using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Samples;

public sealed class KeyboardPublisherTests(MqttServer broker)
{
    [Fact]
    public async Task Stdin_ThreeLines_SubscriberReceivesThemInOrder()
    {
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}/message";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await using var program = SampleProcess.Start("KeyboardPublisher", [$"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}"]);

        await program.WriteLineAsync("Hello MQTT!");
        await program.WriteLineAsync("This is THE IoT.");
        await program.WriteLineAsync("こんにちは");
        program.CloseInput();
        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0, program.Describe());
        var received = await collector.WaitForCountAsync(3, TimeSpan.FromSeconds(10));
        received.Should().Equal("Hello MQTT!", "This is THE IoT.", "こんにちは");
        program.Output.Should().Contain("Connected with result code 0")
            .And.Contain($"Destination Host:  {broker.Host}")
            .And.Contain($"TOPIC:  {topic}");
        program.Output.Should().Contain(l => l.StartsWith("message: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DefaultTopic_IsTheTutorials()
    {
        broker.RequireAvailable();
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, "tochigi/iot999/message");
        await using var program = SampleProcess.Start("KeyboardPublisher", [$"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}"]);
        var marker = Guid.NewGuid().ToString("N");

        await program.WriteLineAsync(marker);
        program.CloseInput();

        (await program.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, program.Describe());
        (await collector.WaitForCountAsync(1, TimeSpan.FromSeconds(10))).Should().Contain(marker);
        program.Output.Should().Contain("TOPIC:  tochigi/iot999/message");
    }

    [Fact]
    public async Task BadPort_StopsWithOneLineNamingTheKey()
    {
        await using var program = SampleProcess.Start("KeyboardPublisher", ["--Mqtt:Port=seventy"]);

        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().NotBe(0);
        program.Errors.Should().ContainSingle().Which.Should().Contain("Mqtt:Port");
    }

    [Fact]
    public async Task PortOutOfRange_StopsWithOneLineNamingTheKey()
    {
        await using var program = SampleProcess.Start("KeyboardPublisher", ["--Mqtt:Port=70000"]);

        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().NotBe(0);
        program.Errors.Should().ContainSingle().Which.Should().Contain("Mqtt:Port").And.Contain("70000");
    }
}
