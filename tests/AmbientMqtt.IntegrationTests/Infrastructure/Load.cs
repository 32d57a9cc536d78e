using AmbientMqtt.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>Readings for the end-to-end tests, each with a distinct timestamp, and ways to publish them.</summary>
internal static class Load
{
    public static readonly Instant Start = Instant.FromUtc(2024, 10, 9, 6, 30, 0);

    public static List<AmbientReading> Readings(int count, Instant? start = null, string? identifier = null)
    {
        var first = start ?? Start;
        return Enumerable.Range(0, count)
            .Select(i => new AmbientReading(
                first + Duration.FromMilliseconds(i * 10) + Duration.FromNanoseconds(1_000 * (i % 1000)),
                20 + (i % 700) / 100.0 + 0.00123,
                40 + (i % 2000) / 100.0 + 0.00456,
                990 + (i % 3000) / 100.0 + 0.00789,
                identifier))
            .ToList();
    }

    /// <summary>The JST wall-clock time each reading must be stored with.</summary>
    public static DateTime Tokyo(AmbientReading reading)
        => reading.Timestamp.InZone(DateTimeZoneProviders.Tzdb["Asia/Tokyo"]).LocalDateTime.ToDateTimeUnspecified();

    /// <summary>Publishes at QoS 1 as fast as the broker acknowledges, with up to <paramref name="window"/> in flight.</summary>
    /// <param name="pauseEvery">When above 0, pause 10 ms after that many messages, to make a stream that lasts.</param>
    public static async Task PublishFastAsync(string host, int port, string topic, IEnumerable<byte[]> payloads, int window = 100, CancellationToken cancellationToken = default, int pauseEvery = 0)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId("load-" + Guid.NewGuid().ToString("N")[..8]).Build(), cancellationToken);
        using var slots = new SemaphoreSlim(window);
        var inFlight = new List<Task>();
        foreach (var payload in payloads)
        {
            await slots.WaitAsync(cancellationToken);
            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            inFlight.Add(PublishOneAsync(client, message, slots, cancellationToken));
            if (pauseEvery > 0 && inFlight.Count % pauseEvery == 0)
            {
                await Task.Delay(10, cancellationToken);
            }
        }

        await Task.WhenAll(inFlight);
        await client.DisconnectAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Publishes through the library's own publisher (which queues while the broker is away) at a steady pace.</summary>
    public static async Task<MqttReadingPublisher> PublishPacedAsync(string host, int port, string topic, IReadOnlyList<AmbientReading> readings, TimeSpan every, CancellationToken cancellationToken = default)
    {
        var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = host,
            Port = port,
            Topic = topic,
            ClientId = "paced-" + Guid.NewGuid().ToString("N")[..8],
            ReconnectDelay = TimeSpan.FromMilliseconds(200),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        });
        await publisher.StartAsync(cancellationToken);
        foreach (var reading in readings)
        {
            await publisher.PublishAsync(reading, cancellationToken);
            await Task.Delay(every, cancellationToken);
        }

        return publisher;
    }

    private static async Task PublishOneAsync(IMqttClient client, MqttApplicationMessage message, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.PublishAsync(message, cancellationToken);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"publish failed: {result.ReasonCode}");
            }
        }
        finally
        {
            slots.Release();
        }
    }
}
