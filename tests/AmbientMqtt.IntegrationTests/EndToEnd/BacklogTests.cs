using System.Diagnostics;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// A large backlog waiting in the broker when MqttInsert starts: with MQTTnet's default 8 KiB socket buffer the
/// connection can stall on the TCP persist timer (about 150 messages a second); it must drain at full speed.
/// </summary>
public sealed class BacklogTests(MqttServer broker, MariaDbFixture mariaDb)
{
    [Fact]
    public async Task HundredThousandReadingBacklog_DrainsWithoutStallingAndExactlyOnce()
    {
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = $"test/{Guid.NewGuid():N}/backlog";
        var clientId = $"backlog-{Guid.NewGuid():N}"[..20];
        const int Count = 100_000;

        // First start creates the persistent session; then the readings pile up while MqttInsert is away.
        await using (var first = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString))
        {
            first.Terminate();
            (await first.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
        }

        var readings = Load.Readings(Count);
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), window: 200, ct);
        var clock = Stopwatch.StartNew();
        await using var second = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString);

        // A stalled connection would need about 11 minutes; a healthy one drains in seconds.
        var rows = await MqttInsertRun.WaitForRowsAsync(database, Count, TimeSpan.FromSeconds(120));
        var elapsed = clock.Elapsed;

        rows.Should().Be(Count, second.Describe());
        (await database.ScalarAsync("SELECT COUNT(DISTINCT identifier, timestamp) FROM Ambient")).Should().Be(Count);
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(120));
        TestContext.Current.SendDiagnosticMessage($"drained {Count} readings in {elapsed.TotalSeconds:F1} s");
    }
}
