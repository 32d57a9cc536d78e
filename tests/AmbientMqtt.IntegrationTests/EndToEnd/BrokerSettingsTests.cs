using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// What the README's warning about stock mosquitto rests on, measured: with Debian's defaults a broker drops readings
/// queued for an absent MqttInsert and loses what it had not saved when it crashes; with
/// <c>deploy/mosquitto/ambientmqtt.conf</c> it does neither. Either way a loss does not go unnoticed: the readings carry
/// their publisher's numbers, and MqttInsert says how many are missing.
/// </summary>
public sealed class BrokerSettingsTests(MariaDbFixture mariaDb)
{
    private const string Node = "node-q";
    private static readonly TimeSpan RowTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(MosquittoSettings.Stock, 1000)]
    [InlineData(MosquittoSettings.Shipped, 5000)]
    public async Task FiveThousandReadingsWhileMqttInsertIsAway_StockKeepsAThousandAndTheGapIsReported(MosquittoSettings settings, int kept)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync(settings: settings);
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var (topic, clientId) = ($"test/{Guid.NewGuid():N}", $"away-{Guid.NewGuid():N}"[..20]);
        await using (var first = await StartAsync(broker, topic, clientId, database))
        {
            first.Terminate();
            (await first.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
        }

        var readings = Numbered(5001);
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Take(5000).Select(r => AmbientPayload.Encode(r)), window: 100, ct);
        await using var second = await StartAsync(broker, topic, clientId, database);
        (await MqttInsertRun.WaitForRowsAsync(database, kept, RowTimeout)).Should().Be(kept, second.Describe());

        // The publisher goes on: its next reading shows MqttInsert what did not come.
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, [AmbientPayload.Encode(readings[5000])], cancellationToken: ct);
        (await MqttInsertRun.WaitForRowsAsync(database, kept + 1, RowTimeout)).Should().Be(kept + 1);
        if (kept < 5000)
        {
            var line = await second.WaitForErrorAsync(l => l.Contains($"reading(s) missing from {Node}", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            line.Should().Contain($"{5000 - kept} reading(s) missing from {Node} between seq {kept - 1} and 5000");
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            second.Errors.Should().NotContain(l => l.Contains("missing", StringComparison.Ordinal), second.Describe());
        }
    }

    [Theory]
    [InlineData(MosquittoSettings.Stock)]
    [InlineData(MosquittoSettings.Shipped)]
    public async Task BrokerKilledWhileReadingsWaitForMqttInsert_ShippedSettingsKeepWhatWasSaved(MosquittoSettings settings)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync(settings: settings);
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var (topic, clientId) = ($"test/{Guid.NewGuid():N}", $"crash-{Guid.NewGuid():N}"[..20]);
        var readings = Numbered(511);
        await using (var first = await StartAsync(broker, topic, clientId, database))
        {
            await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Take(10).Select(r => AmbientPayload.Encode(r)), cancellationToken: ct);
            (await MqttInsertRun.WaitForRowsAsync(database, 10, RowTimeout)).Should().Be(10);
            first.Terminate();
            (await first.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
        }

        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Skip(10).Take(500).Select(r => AmbientPayload.Encode(r)), cancellationToken: ct);
        if (settings == MosquittoSettings.Shipped)
        {
            // The shipped file saves once a minute; a crash after that keeps what was queued.
            await Task.Delay(TimeSpan.FromSeconds(62), ct);
        }

        await broker.KillAsync();
        await broker.StartAsync();
        await using var second = await StartAsync(broker, topic, clientId, database);
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, [AmbientPayload.Encode(readings[510])], cancellationToken: ct);

        if (settings == MosquittoSettings.Shipped)
        {
            (await MqttInsertRun.WaitForRowsAsync(database, 511, RowTimeout)).Should().Be(511, second.Describe());
        }
        else
        {
            (await MqttInsertRun.WaitForRowsAsync(database, 11, RowTimeout)).Should().Be(11, "stock mosquitto had saved nothing: " + second.Describe());
            var line = await second.WaitForErrorAsync(l => l.Contains($"reading(s) missing from {Node}", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            line.Should().Contain($"500 reading(s) missing from {Node} between seq 9 and 510");
        }
    }

    private static List<AmbientReading> Numbered(int count) =>
        [.. Load.Readings(count, identifier: Node).Select((r, i) => r with { Sequence = i })];

    private static Task<SampleProcess> StartAsync(PrivateMosquitto broker, string topic, string clientId, TestDatabase database) =>
        MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString, "--Ingest:ReorderWindow=00:00:02");
}
