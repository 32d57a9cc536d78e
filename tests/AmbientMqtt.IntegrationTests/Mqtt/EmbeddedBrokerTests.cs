using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;

namespace AmbientMqtt.IntegrationTests.Mqtt;

/// <summary>
/// <see cref="EmbeddedBroker"/> with the library's own publisher and subscriber: where it listens, what a taken port
/// says, and persistent sessions that keep what a subscriber missed while it was away.
/// </summary>
public sealed class EmbeddedBrokerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StartAsync_PortZero_ListensOnAFreePortOfTheIpv4LoopbackOnly()
    {
        await using var broker = new EmbeddedBroker(new EmbeddedBrokerOptions { Port = 0 });

        await broker.StartAsync(Ct);

        broker.Port.Should().BeInRange(1, 65535);
        broker.Endpoint.Should().Be($"127.0.0.1:{broker.Port}");
        broker.IsRunning.Should().BeTrue();
        (await CanConnectAsync(IPAddress.Loopback, broker.Port)).Should().BeTrue();
        (await CanConnectAsync(IPAddress.IPv6Loopback, broker.Port)).Should().BeFalse("MQTTnet listens on IPv6Any unless told otherwise");
        foreach (var address in OtherLocalAddresses())
        {
            (await CanConnectAsync(address, broker.Port)).Should().BeFalse($"the broker must not be reachable on {address}");
        }
    }

    [Fact]
    public async Task StartAsync_PortTakenByAnotherBroker_ThrowsNamingThePortAndTheWayOut()
    {
        await using var first = new EmbeddedBroker(new EmbeddedBrokerOptions { Port = 0 });
        await first.StartAsync(Ct);
        await using var second = new EmbeddedBroker(new EmbeddedBrokerOptions { Port = first.Port });

        var start = await FluentActions.Awaiting(() => second.StartAsync(Ct)).Should().ThrowAsync<EmbeddedBrokerException>();

        start.Which.Message.Should().Be($"port {first.Port} is in use (is mosquitto running?); choose another with --Mqtt:Port=… or 0 for a free one");
        second.IsRunning.Should().BeFalse();
        (await CanConnectAsync(IPAddress.Loopback, first.Port)).Should().BeTrue("the first broker is untouched");
    }

    [Fact]
    public async Task SubscriberAway_ComesBackWithItsClientId_ReceivesWhatWasPublishedMeanwhile()
    {
        await using var broker = new EmbeddedBroker(new EmbeddedBrokerOptions { Port = 0 });
        await broker.StartAsync(Ct);
        var subscriberOptions = Options<MqttSubscriberOptions>(broker, "station-sub");
        await using (var away = new MqttReadingSubscriber(subscriberOptions))
        {
            await away.StartAsync(Ct);
        }

        var readings = Load.Readings(20);
        await using (var publisher = new MqttReadingPublisher(Options<MqttPublisherOptions>(broker, "station-pub")))
        {
            await publisher.StartAsync(Ct);
            foreach (var reading in readings)
            {
                await publisher.PublishAsync(reading, Ct);
            }

            (await publisher.FlushAsync(TimeSpan.FromSeconds(10), Ct)).Should().BeTrue();
        }

        await using var back = new MqttReadingSubscriber(subscriberOptions);
        await back.StartAsync(Ct);
        var received = await ReceiveAsync(back, readings.Count, TimeSpan.FromSeconds(10));

        received.Select(p => AmbientPayload.Decode(Encoding.UTF8.GetBytes(p)).Timestamp).Should().Equal(readings.Select(r => r.Timestamp));
    }

    [Theory]
    [InlineData(100_000, 3000)]
    [InlineData(1000, 1000)]
    public async Task SubscriberAway_3000ReadingsPublishedMeanwhile_AllWaitForItUnderTheDefaultLimit(int maxPending, int expectReceived)
    {
        const int Count = 3000;
        await using var broker = new EmbeddedBroker(new EmbeddedBrokerOptions { Port = 0, MaxPendingMessagesPerClient = maxPending });
        await broker.StartAsync(Ct);
        var subscriberOptions = Options<MqttSubscriberOptions>(broker, "station-sub");
        await using (var away = new MqttReadingSubscriber(subscriberOptions))
        {
            await away.StartAsync(Ct);
        }

        var readings = Load.Readings(Count);
        await Load.PublishFastAsync(broker.Host, broker.Port, "raspi/bme", readings.Select(r => AmbientPayload.Encode(r)), cancellationToken: Ct);
        await using var back = new MqttReadingSubscriber(subscriberOptions);
        await back.StartAsync(Ct);
        var received = await ReceiveAsync(back, Count, TimeSpan.FromSeconds(30));

        // MQTTnet's own default (1000, then the oldest go) would lose all but the newest 1000: why EmbeddedBroker raises it.
        received.Select(p => AmbientPayload.Decode(Encoding.UTF8.GetBytes(p)).Timestamp)
            .Should().Equal(readings.Skip(Count - expectReceived).Select(r => r.Timestamp));
        if (expectReceived == Count)
        {
            broker.Dropped.Should().Be(0);
        }
        else
        {
            // MQTTnet counts a dropped message again when it requeues the session's unacknowledged ones on return.
            broker.Dropped.Should().BeGreaterThanOrEqualTo(Count - expectReceived);
        }
    }

    private static T Options<T>(EmbeddedBroker broker, string clientId)
        where T : MqttConnectionOptions, new() => new()
    {
        Host = broker.Host,
        Port = broker.Port,
        ClientId = clientId,
    };

    /// <summary>Takes up to <paramref name="count"/> messages, acknowledging each; gives up when the first does not come
    /// within <paramref name="timeout"/> or the next not within two seconds.</summary>
    private static async Task<List<string>> ReceiveAsync(MqttReadingSubscriber subscriber, int count, TimeSpan timeout)
    {
        var received = new List<string>();
        try
        {
            while (received.Count < count)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                wait.CancelAfter(received.Count == 0 ? timeout : TimeSpan.FromSeconds(2));
                var message = await subscriber.Messages.ReadAsync(wait.Token);
                received.Add(Encoding.UTF8.GetString(message.Payload.Span));
                await message.AcknowledgeAsync(Ct);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            // Fewer arrived; the caller's assertion says how many.
        }

        return received;
    }

    private static async Task<bool> CanConnectAsync(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await socket.ConnectAsync(address, port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static IEnumerable<IPAddress> OtherLocalAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal);
}
