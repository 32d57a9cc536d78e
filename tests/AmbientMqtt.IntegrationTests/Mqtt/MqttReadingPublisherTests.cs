using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Mqtt;

public sealed class MqttReadingPublisherTests(MqttServer broker)
{
    [Fact]
    public async Task PublishAsync_Reading_ArrivesAsTheContractPayload()
    {
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions { Host = broker.Host, Port = broker.Port, Topic = topic });
        var reading = new AmbientReading(Instant.FromUtc(2024, 10, 7, 23, 54, 50).PlusNanoseconds(547_143_000), 26.72680231416598, 57.53434981211512, 997.8079720341007);
        var connected = 0;
        publisher.Connected += (_, e) => connected += e.ResultCode == 0 ? 1 : 100;

        await publisher.StartAsync(TestContext.Current.CancellationToken);
        await publisher.PublishAsync(reading, TestContext.Current.CancellationToken);
        var flushed = await publisher.FlushAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        flushed.Should().BeTrue();
        connected.Should().Be(1);
        (await collector.WaitForCountAsync(1, TimeSpan.FromSeconds(10))).Should().Equal(
            """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}""");
        publisher.Published.Should().Be(1);
    }

    [Fact]
    public async Task BrokerUnreachable_QueueFull_DropsOldestAndSendsTheRestInOrderAfterReconnect()
    {
        await using var server = await MqttServer.StartPrivateAsync();
        const string Topic = "test/queue";
        await using var collector = await MqttCollector.StartAsync(server.Host, server.Port, Topic);
        await server.StopAsync();
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = server.Host,
            Port = server.Port,
            Topic = Topic,
            QueueCapacity = 3,
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        });

        await publisher.StartAsync(TestContext.Current.CancellationToken);
        publisher.IsConnected.Should().BeFalse();
        for (var i = 1; i <= 5; i++)
        {
            await publisher.PublishAsync(Encoding.UTF8.GetBytes($"m{i}"), TestContext.Current.CancellationToken);
        }

        publisher.Dropped.Should().Be(2);
        publisher.Pending.Should().Be(3);
        await server.StartAsync();
        var flushed = await publisher.FlushAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        flushed.Should().BeTrue();
        (await collector.WaitForCountAsync(3, TimeSpan.FromSeconds(10))).Should().Equal("m3", "m4", "m5");
    }

    [Fact]
    public async Task FlushAsync_BrokerDown_ReturnsFalseAndKeepsTheMessages()
    {
        await using var server = await MqttServer.StartPrivateAsync();
        await server.StopAsync();
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions { Host = server.Host, Port = server.Port, Topic = "t" });
        await publisher.StartAsync(TestContext.Current.CancellationToken);

        await publisher.PublishAsync("x"u8.ToArray(), TestContext.Current.CancellationToken);
        var flushed = await publisher.FlushAsync(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);

        flushed.Should().BeFalse();
        publisher.Pending.Should().Be(1);
        publisher.Dropped.Should().Be(0);
    }

    [Fact]
    public void Constructor_BadOption_NamesTheKey()
    {
        var act = () => new MqttReadingPublisher(new MqttPublisherOptions { Qos = 3 });

        act.Should().Throw<ArgumentException>().WithMessage("Mqtt:Qos: must be 0, 1 or 2 (got 3)*");
    }
}
