using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AmbientMqtt.Ingest;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.DependencyInjection;

namespace AmbientMqtt.IntegrationTests.Hosting;

/// <summary>
/// The meter <c>AmbientMqtt</c> read the way dotnet-counters and OpenTelemetry read it, with a <see cref="MeterListener"/>,
/// while the tutorial's two programs run as hosts: its counts agree with the rows in the table.
/// </summary>
public sealed class AmbientMetricsTests(MqttServer broker, MariaDbFixture mariaDb)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MeterListener_SimulatedSensorToTable_CountsMatchTheRowsInserted()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        using var ingest = HostedPipelines.Ingest(broker, topic, "ingest-" + Guid.NewGuid().ToString("N")[..8], database);
        using var publisher = HostedPipelines.Publisher(broker, topic, "publish-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromMilliseconds(10));
        var batches = 0;
        ingest.Services.GetRequiredService<IngestPipeline>().BatchCommitted += (_, _) => Interlocked.Increment(ref batches);
        using var meter = new MeterRecorder();

        await HostedPipelines.StartSubscribedAsync(ingest, Long);
        var published = await HostedPipelines.PublishAsync(publisher, 60, Long);
        var rows = await MqttInsertRun.WaitForRowsAsync(database, published.Count, Long);
        await ingest.StopAsync(TestContext.Current.CancellationToken);

        rows.Should().Be(published.Count);
        meter.Sum("ambientmqtt.sensor.readings").Should().Be(rows);
        meter.Sum("ambientmqtt.mqtt.published").Should().Be(rows);
        meter.Sum("ambientmqtt.mqtt.received").Should().Be(rows);
        meter.Sum("ambientmqtt.ingest.inserted").Should().Be(rows, "the inserted counter is the table's row count");
        meter.Sum("ambientmqtt.ingest.duplicates").Should().Be(0);
        meter.Sum("ambientmqtt.ingest.rejected").Should().Be(0);
        meter.Sum("ambientmqtt.mqtt.dropped").Should().Be(0);

        var sizes = meter.Values("ambientmqtt.ingest.batch.size");
        sizes.Should().HaveCount(Volatile.Read(ref batches), "one batch size per committed batch");
        sizes.Sum().Should().Be(rows);

        var latencies = meter.Values("ambientmqtt.ingest.latency");
        latencies.Should().HaveCount((int)rows, "one latency per inserted row");
        latencies.Should().OnlyContain(ms => ms >= 0 && ms < Long.TotalMilliseconds);
    }

    [Fact]
    public async Task MeterListener_QueueOverflowsWhileTheBrokerIsAway_CountsEveryDroppedMessage()
    {
        using var meter = new MeterRecorder();
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = "127.0.0.1",
            Port = PrivateMosquitto.FreePort(),
            ClientId = "overflow-" + Guid.NewGuid().ToString("N")[..8],
            QueueCapacity = 5,
            ConnectTimeout = TimeSpan.FromSeconds(1),
        });
        await publisher.StartAsync(TestContext.Current.CancellationToken);

        foreach (var reading in Load.Readings(20))
        {
            await publisher.PublishAsync(reading, TestContext.Current.CancellationToken);
        }

        publisher.Dropped.Should().BeGreaterThanOrEqualTo(14, "5 fit in the queue and at most one is in hand");
        meter.Sum("ambientmqtt.mqtt.dropped").Should().Be(publisher.Dropped);
        meter.Sum("ambientmqtt.mqtt.published").Should().Be(0);
    }

    [Fact]
    public async Task MeterListener_BrokerRestarts_CountsTheReconnect()
    {
        await using var server = await MqttServer.StartPrivateAsync();
        using var meter = new MeterRecorder();
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = server.Host,
            Port = server.Port,
            ClientId = "reconnect-" + Guid.NewGuid().ToString("N")[..8],
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        });
        var connections = 0;
        publisher.Connected += (_, _) => Interlocked.Increment(ref connections);
        await publisher.StartAsync(TestContext.Current.CancellationToken);
        meter.Sum("ambientmqtt.mqtt.reconnects").Should().Be(0, "the first connection is not a reconnect");

        await server.StopAsync();
        await server.StartAsync();
        while (Volatile.Read(ref connections) < 2)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        meter.Sum("ambientmqtt.mqtt.reconnects").Should().Be(1);
    }

    /// <summary>Every measurement of the meter <c>AmbientMqtt</c> from its creation on, by instrument name.</summary>
    private sealed class MeterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _measurements = new();

        public MeterRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "AmbientMqtt")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Record(instrument, value));
            _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Record(instrument, value));
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Record(instrument, value));
            _listener.Start();
        }

        public long Sum(string instrument) => (long)Values(instrument).Sum();

        public IReadOnlyList<double> Values(string instrument) =>
            _measurements.TryGetValue(instrument, out var values) ? [.. values] : [];

        public void Dispose() => _listener.Dispose();

        private void Record(Instrument instrument, double value) =>
            _measurements.GetOrAdd(instrument.Name, _ => new ConcurrentQueue<double>()).Enqueue(value);
    }
}
