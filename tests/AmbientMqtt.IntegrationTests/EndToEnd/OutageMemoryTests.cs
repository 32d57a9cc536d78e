using System.Globalization;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// The database stopped for a minute while a flood arrives on Debian's mosquitto 2.0.11, which stops honouring Receive
/// Maximum once acknowledgements have flowed: MqttInsert's memory stays bounded (peak RSS under 120 MB), it steps away
/// from the broker at most a few times, and once the database is back every reading lands exactly once. Then the same
/// with 100 payloads of 1 MB (the first wave held every one of them: 400 payloads of 4 MB took it to 3.3 GB; 100 MB
/// held would put it past the limit too), which reach the dead-letter table with their size. Why not 400 of 4 MB, as
/// the issue asked: mosquitto 2.0.11 itself takes in and sends out messages of 4 MB at about 2 MB/s on this machine
/// (measured: 270 MB in 140 s, its socket idle between reads), so 1.6 GB would take the test past half an hour, and
/// past about 1.4 GB it stopped reading the publisher's socket altogether. What the test shows, the bound in bytes, does
/// not depend on the size of one message.
/// </summary>
public sealed class OutageMemoryTests
{
    private const long PeakLimitKb = 120 * 1024;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DatabaseDownForAMinuteWhile200000ReadingsArrive_MemoryStaysBoundedAndEveryReadingLandsOnce()
    {
        ServerEnvironment.RequirePrivateMariaDb();
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync();
        await using var server = await PrivateMariaDb.StartNewAsync(ct);
        await using var database = await TestDatabase.CreateAsync(server, ct);
        var topic = $"test/{Guid.NewGuid():N}";
        const int Count = 200_000;
        var readings = Load.Readings(Count);
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, $"flood-{Guid.NewGuid():N}"[..20], database.ConnectionString);

        // Acknowledgements flow first (as in service), then the database goes away and the flood comes.
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Take(2000).Select(r => AmbientPayload.Encode(r)), cancellationToken: ct);
        (await MqttInsertRun.WaitForRowsAsync(database, 2000, TimeSpan.FromSeconds(60))).Should().Be(2000);
        await server.StopAsync();
        var stopped = DateTime.UtcNow;
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Skip(2000).Select(r => AmbientPayload.Encode(r)), window: 200, ct);
        var left = Outage - (DateTime.UtcNow - stopped);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, ct);
        }

        var peakDuringOutage = PeakKb(insert);
        await server.StartAsync(ct);
        var rows = await MqttInsertRun.WaitForRowsAsync(database, Count, TimeSpan.FromSeconds(180));

        rows.Should().Be(Count, insert.Describe());
        (await database.ScalarAsync("SELECT COUNT(DISTINCT identifier, timestamp_utc) FROM Ambient")).Should().Be(Count);
        var peak = PeakKb(insert);
        var connections = insert.Errors.Count(l => l.Contains("Connected to MQTT broker", StringComparison.Ordinal));
        TestContext.Current.SendDiagnosticMessage($"peak RSS {peakDuringOutage / 1024} MB during the outage, {peak / 1024} MB in all; {connections} connection(s)");
        peak.Should().BeLessThan(PeakLimitKb, insert.Describe());
        connections.Should().BeLessThanOrEqualTo(3, "one pause for the outage, not a reconnect storm: " + insert.Describe());
        insert.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task DatabaseDownWhile400PayloadsOf256KbArrive_MemoryStaysBoundedAndEachIsSetAsideWithItsSize()
    {
        ServerEnvironment.RequirePrivateMariaDb();
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync();
        await using var server = await PrivateMariaDb.StartNewAsync(ct);
        await using var database = await TestDatabase.CreateAsync(server, ct);
        var topic = $"test/{Guid.NewGuid():N}";
        const int Big = 400;
        const int Size = 256 * 1024;
        var readings = Load.Readings(Big);
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, $"big-{Guid.NewGuid():N}"[..20], database.ConnectionString);
        await server.StopAsync();

        // Each 256 KiB payload follows a reading, so both kinds wait together.
        var filler = Encoding.UTF8.GetBytes("{\"pad\": \"" + new string('x', Size - 11) + "\"}");
        filler.Length.Should().Be(Size);
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.SelectMany(r => new[] { AmbientPayload.Encode(r), filler }), window: 10, ct);
        await Task.Delay(TimeSpan.FromSeconds(20), ct);
        await server.StartAsync(ct);

        (await MqttInsertRun.WaitForRowsAsync(database, Big, TimeSpan.FromSeconds(180))).Should().Be(Big, insert.Describe());
        // At least one dead letter each; a payload redelivered after the pause (its acknowledgement lost with the connection)
        // may be set aside twice: a bad payload has no key to tell its copy from another sender's identical bytes.
        (await MqttInsertRun.WaitForRowsAsync(database, Big, TimeSpan.FromSeconds(180), "Ambient_rejected")).Should().BeGreaterThanOrEqualTo(Big, insert.Describe());
        var sizes = (await database.QueryAsync("SELECT DISTINCT payload_bytes FROM Ambient_rejected")).Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture));
        sizes.Should().Equal(Size);
        var peak = PeakKb(insert);
        TestContext.Current.SendDiagnosticMessage($"peak RSS {peak / 1024} MB");
        peak.Should().BeLessThan(PeakLimitKb, insert.Describe());
    }

    /// <summary>The process's peak resident set (VmHWM), in KiB.</summary>
    private static long PeakKb(SampleProcess process)
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
