using System.Diagnostics;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Mqtt;

/// <summary>A spooled backlog after an outage: how fast it goes out, in order, and how long a reading taken after the
/// reconnect waits behind it.</summary>
public sealed class SpoolBacklogTests : IDisposable
{
    private const int Backlog = 3000;
    private readonly string _directory = Directory.CreateTempSubdirectory("ambientmqtt-spool-").FullName;

    [Fact]
    public async Task BacklogOf3000_GoesOutOldestFirstAndANewReadingFollowsWithin30Seconds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await MqttServer.StartPrivateAsync();
        const string topic = "test/spool/backlog";
        await using var collector = await MqttCollector.StartAsync(server.Host, server.Port, topic);
        await server.StopAsync();
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = server.Host,
            Port = server.Port,
            Topic = topic,
            Identifier = "node-b",
            SpoolPath = Path.Combine(_directory, "spool"),
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        await publisher.StartAsync(ct);
        var start = Instant.FromUtc(2026, 1, 1, 0, 0);
        var spooling = Stopwatch.StartNew();
        for (var i = 0; i < Backlog; i++)
        {
            await publisher.PublishAsync(new AmbientReading(start + Duration.FromSeconds(5 * i), 20, 50, 1000), ct);
        }

        var spooled = spooling.Elapsed;
        await server.StartAsync();
        var draining = Stopwatch.StartNew();
        while (!publisher.IsConnected)
        {
            await Task.Delay(10, ct);
        }

        var connected = draining.Elapsed;
        var fresh = await publisher.PublishAsync(new AmbientReading(start + Duration.FromDays(1), 21, 51, 1001), ct);
        (await publisher.FlushAsync(TimeSpan.FromSeconds(60), ct)).Should().BeTrue();
        var drained = draining.Elapsed;

        var received = (await collector.WaitForCountAsync(Backlog + 1, TimeSpan.FromSeconds(30))).Select(p => AmbientPayload.Decode(System.Text.Encoding.UTF8.GetBytes(p))).ToList();
        received.Select(r => r.Sequence).Distinct().Should().HaveCount(Backlog + 1);
        received.Select(r => r.Sequence).Should().BeInAscendingOrder("oldest first");
        received[^1].Sequence.Should().Be(fresh.Sequence);
        (drained - connected).Should().BeLessThan(TimeSpan.FromSeconds(30));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"spooled {Backlog} readings in {spooled.TotalSeconds:0.00} s ({Backlog / spooled.TotalSeconds:0} fsynced appends/s); "
            + $"after the reconnect the backlog and a new reading went out in {(drained - connected).TotalSeconds:0.00} s ({(Backlog + 1) / (drained - connected).TotalSeconds:0}/s)");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
