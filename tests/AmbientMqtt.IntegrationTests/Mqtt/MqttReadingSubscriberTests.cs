using System.Globalization;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace AmbientMqtt.IntegrationTests.Mqtt;

public sealed class MqttReadingSubscriberTests(MqttServer broker)
{
    private MqttSubscriberOptions Options(string topic, string clientId, int receiveMaximum = 2000) => new()
    {
        Host = broker.Host,
        Port = broker.Port,
        Topic = topic,
        ClientId = clientId,
        ReceiveMaximum = receiveMaximum,
    };

    [Fact]
    public async Task UnacknowledgedMessage_IsDeliveredAgainToTheNextSession()
    {
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}";
        var clientId = $"sub-{Guid.NewGuid():N}";
        var ct = TestContext.Current.CancellationToken;

        await using (var first = new MqttReadingSubscriber(Options(topic, clientId)))
        {
            await first.StartAsync(ct);
            await PublishAsync(topic, ct, "one", "two");
            var a = await first.Messages.ReadAsync(ct);
            var b = await first.Messages.ReadAsync(ct);
            await a.AcknowledgeAsync(ct);
            Encoding.UTF8.GetString(b.Payload.Span).Should().Be("two");

            // "two" is never acknowledged: the process "crashes" here.
        }

        await using var second = new MqttReadingSubscriber(Options(topic, clientId));
        await second.StartAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var again = await second.Messages.ReadAsync(timeout.Token);

        Encoding.UTF8.GetString(again.Payload.Span).Should().Be("two");
        await again.AcknowledgeAsync(ct);
        await Task.Delay(300, ct);
        second.Messages.TryRead(out _).Should().BeFalse("'one' was acknowledged and must not come back");
    }

    [Fact]
    public async Task MessagesPublishedWhileAway_AreDeliveredOnReturn()
    {
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}";
        var clientId = $"sub-{Guid.NewGuid():N}";
        var ct = TestContext.Current.CancellationToken;
        await using (var first = new MqttReadingSubscriber(Options(topic, clientId)))
        {
            await first.StartAsync(ct);
        }

        await PublishAsync(topic, ct, "while-away");
        await using var second = new MqttReadingSubscriber(Options(topic, clientId));
        await second.StartAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));

        var message = await second.Messages.ReadAsync(timeout.Token);

        Encoding.UTF8.GetString(message.Payload.Span).Should().Be("while-away");
        message.Topic.Should().Be(topic);
    }

    [Fact]
    public async Task ReceiveMaximum_BrokerWaitsForAcknowledgements()
    {
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}";
        var ct = TestContext.Current.CancellationToken;
        await using var subscriber = new MqttReadingSubscriber(Options(topic, $"sub-{Guid.NewGuid():N}", receiveMaximum: 10));
        await subscriber.StartAsync(ct);

        await PublishAsync(topic, ct, Enumerable.Range(0, 100).Select(i => $"m{i}").ToArray());
        await Task.Delay(1000, ct);

        subscriber.Received.Should().Be(10, "the broker may not send more than Receive Maximum unacknowledged messages");
    }

    [Fact]
    public async Task BrokerIgnoringReceiveMaximumOnceAcked_BytesInHandStayBoundedAndEveryMessageArrives()
    {
        // Debian's mosquitto 2.0.11 stops enforcing Receive Maximum once the client acknowledges (eclipse/mosquitto#2306):
        // past Mqtt:MaxUnacknowledgedBytes the subscriber stops reading its socket until what it holds is acknowledged,
        // and TCP holds the broker back. A pause this short costs no reconnect.
        broker.RequireAvailable();
        var topic = $"test/{Guid.NewGuid():N}";
        var ct = TestContext.Current.CancellationToken;
        const int Count = 20_000;
        const int Limit = 512 * 1024;
        var options = Options(topic, $"sub-{Guid.NewGuid():N}", receiveMaximum: 50);
        options.MaxPacketSize = 64 * 1024;
        options.MaxUnacknowledgedBytes = Limit;
        options.SocketBufferSize = 64 * 1024;
        await using var subscriber = new MqttReadingSubscriber(options);
        var connections = 0;
        subscriber.Connected += (_, _) => Interlocked.Increment(ref connections);
        await subscriber.StartAsync(ct);
        var payload = new string('x', 150);
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, Enumerable.Range(0, Count).Select(i => Encoding.UTF8.GetBytes($"{i} {payload}")), 100, ct);

        var seen = new HashSet<int>();
        for (var i = 0; i < 50; i++)
        {
            var message = await subscriber.Messages.ReadAsync(ct);
            seen.Add(int.Parse(Encoding.UTF8.GetString(message.Payload.Span).Split(' ')[0], CultureInfo.InvariantCulture));
            await message.AcknowledgeAsync(ct);
        }

        await Task.Delay(2000, ct);

        // The bound, plus what MQTTnet had already read and decoded when the gate closed (measured: about 120 KB of
        // packets); 256 KiB of 150-byte messages, each counted with its bookkeeping, is the margin.
        var held = subscriber.UnacknowledgedBytes;
        held.Should().BeGreaterThan(0);
        held.Should().BeLessThanOrEqualTo(Limit + (256 * 1024 / 150 * 700), $"{Count} were waiting in the broker");
        subscriber.Received.Should().BeLessThan(Count);

        // Acknowledging lets the rest in, every one of them, once: the connection was never dropped.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        while (seen.Count < Count)
        {
            var message = await subscriber.Messages.ReadAsync(timeout.Token);
            seen.Add(int.Parse(Encoding.UTF8.GetString(message.Payload.Span).Split(' ')[0], CultureInfo.InvariantCulture));
            await message.AcknowledgeAsync(ct);
        }

        seen.Should().HaveCount(Count);
        subscriber.Received.Should().Be(Count);
        connections.Should().Be(1);
    }

    [Fact]
    public async Task StopReceiving_CompletesTheChannel()
    {
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        await using var subscriber = new MqttReadingSubscriber(Options($"test/{Guid.NewGuid():N}", $"sub-{Guid.NewGuid():N}"));
        await subscriber.StartAsync(ct);

        await subscriber.StopReceivingAsync(ct);

        (await subscriber.Messages.WaitToReadAsync(ct)).Should().BeFalse();
    }

    private async Task PublishAsync(string topic, CancellationToken ct, params string[] payloads)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).Build(), ct);
        foreach (var payload in payloads)
        {
            await client.PublishAsync(
                new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
                ct);
        }

        await client.DisconnectAsync(cancellationToken: ct);
    }
}
