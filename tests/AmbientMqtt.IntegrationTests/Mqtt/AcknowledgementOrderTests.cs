using System.Text;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Storage;
using MQTTnet.Protocol;

namespace AmbientMqtt.IntegrationTests.Mqtt;

/// <summary>
/// MQTT 5 section 4.6: a client acknowledges QoS 1 messages in the order they arrived. Read from mosquitto's own log
/// (<c>log_type all</c>), with messages over 64 KiB among small ones (which the first wave's receive path handled apart,
/// and acknowledged out of order); and QoS 2 end to end, every reading stored exactly once.
/// </summary>
public sealed partial class AcknowledgementOrderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ambientmqtt-order-").FullName;

    [Fact]
    public async Task LargeMessagesAmongSmallOnes_PubacksLeaveInTheOrderThePublishesArrived()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync(extraLines: "log_type all");
        var topic = $"test/{Guid.NewGuid():N}";
        var clientId = $"order-{Guid.NewGuid():N}"[..20];
        const int Count = 400;
        var payloads = Load.Readings(Count).Select((r, i) => i % 40 == 7
            ? Encoding.UTF8.GetBytes("{\"pad\": \"" + new string('x', 100_000) + "\"}")
            : AmbientPayload.Encode(r)).ToList();

        await using var run = await Run.StartAsync(broker, topic, clientId, MqttQualityOfServiceLevel.AtLeastOnce, _directory, ct);
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, payloads, window: 50, ct);
        (await run.Pipeline.WaitForProcessedAsync(Count, TimeSpan.FromSeconds(60), ct)).Should().BeTrue();
        await run.DisposeAsync();
        await broker.StopAsync();

        var log = await File.ReadAllLinesAsync(broker.LogPath, ct);
        var sent = log.Select(l => SendingPublish().Match(l)).Where(m => m.Success && m.Groups["client"].Value == clientId).Select(m => int.Parse(m.Groups["mid"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var acked = log.Select(l => ReceivedPuback().Match(l)).Where(m => m.Success && m.Groups["client"].Value == clientId).Select(m => int.Parse(m.Groups["mid"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

        sent.Should().HaveCount(Count, "mosquitto sent each message once");
        acked.Should().Equal(sent, "each PUBACK in the order its PUBLISH arrived");
        run.Pipeline.Rejected.Should().Be(10, "the ten 100 KB payloads are larger than Ingest:MaxPayloadBytes");
    }

    [Fact]
    public async Task Qos2EndToEnd_EveryReadingStoredExactlyOnceThroughAResubscription()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync();
        var topic = $"test/{Guid.NewGuid():N}";
        var clientId = $"qos2-{Guid.NewGuid():N}"[..20];
        const int Count = 3000;
        var readings = Load.Readings(Count);

        // The first run stores a part and goes away without acknowledging the rest; the second finishes.
        await using (var first = await Run.StartAsync(broker, topic, clientId, MqttQualityOfServiceLevel.ExactlyOnce, _directory, ct))
        {
            // At most mosquitto's 20 incoming QoS 2 messages in flight (its Receive Maximum, which MQTTnet's client does
            // not follow by itself).
            var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), window: 10, ct, qos: MqttQualityOfServiceLevel.ExactlyOnce);
            (await first.Pipeline.WaitForProcessedAsync(500, TimeSpan.FromSeconds(60), ct)).Should().BeTrue();
            await first.DisposeAsync();
            await publishing;
        }

        await using var second = await Run.StartAsync(broker, topic, clientId, MqttQualityOfServiceLevel.ExactlyOnce, _directory, ct);
        using var repository = new SqliteAmbientRepository(new SqliteRepositoryOptions { Path = Path.Combine(_directory, "ambient.db") });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        long rows;
        while ((rows = await CountAsync()) < Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, ct);
        }

        rows.Should().Be(Count);
        second.Pipeline.Rejected.Should().Be(0);

        async Task<long> CountAsync()
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, "ambient.db")}");
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*), COUNT(DISTINCT timestamp_utc) FROM Ambient";
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            reader.GetInt64(0).Should().Be(reader.GetInt64(1), "no reading twice");
            return reader.GetInt64(0);
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [GeneratedRegex(@"Sending PUBLISH to (?<client>\S+) \(d\d, q\d, r\d, m(?<mid>\d+),")]
    private static partial Regex SendingPublish();

    [GeneratedRegex(@"Received PUB(ACK|REC) from (?<client>\S+) \(Mid: (?<mid>\d+)")]
    private static partial Regex ReceivedPuback();

    /// <summary>A subscriber and an ingest pipeline into a SQLite file, in this process.</summary>
    private sealed class Run : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private MqttReadingSubscriber _subscriber = null!;
        private SqliteAmbientRepository _repository = null!;
        private Task _running = Task.CompletedTask;
        private bool _disposed;

        public IngestPipeline Pipeline { get; private set; } = null!;

        public static async Task<Run> StartAsync(PrivateMosquitto broker, string topic, string clientId, MqttQualityOfServiceLevel qos, string directory, CancellationToken ct)
        {
            var run = new Run
            {
                _subscriber = new MqttReadingSubscriber(new MqttSubscriberOptions { Host = broker.Host, Port = broker.Port, Topic = topic, ClientId = clientId, Qos = (int)qos }),
                _repository = new SqliteAmbientRepository(new SqliteRepositoryOptions { Path = Path.Combine(directory, "ambient.db") }),
            };
            run.Pipeline = new IngestPipeline(run._subscriber, run._repository);
            await run.Pipeline.PrepareAsync(ct);
            await run._subscriber.StartAsync(ct);
            run._running = run.Pipeline.RunAsync(run._stop.Token);
            return run;
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _stop.CancelAsync();
            await _running;
            await _subscriber.DisposeAsync();
            _repository.Dispose();
            _stop.Dispose();
        }
    }
}
