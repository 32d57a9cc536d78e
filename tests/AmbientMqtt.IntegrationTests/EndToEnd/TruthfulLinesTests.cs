using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// Every line a user reads must be true (issue 9, item 7): a hung database is said while it lasts, not after the
/// driver's 30 s; its outage is reported once and at its full length; a write that stalled and committed late is an
/// insert, not a duplicate; "mqtt server connected" is printed only once it is; a publisher that could not deliver says
/// so once and exits 1.
/// </summary>
public sealed partial class TruthfulLinesTests(MqttServer broker)
{
    private static readonly TimeSpan RowTimeout = TimeSpan.FromSeconds(120);

    private static string NewTopic() => $"test/{Guid.NewGuid():N}/bme";

    private static string NewClientId() => $"truth-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task DatabaseHungForEightSeconds_SaidWithinTheWarning_OutageLengthTrue_EveryRowCountedAsInserted()
    {
        broker.RequireAvailable();
        ServerEnvironment.RequirePrivateMariaDb();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await PrivateMariaDb.StartNewAsync(ct);
        await using var database = await TestDatabase.CreateAsync(server, ct);
        var topic = NewTopic();
        var readings = Load.Readings(400);
        // A command timeout shorter than the hang, so that a write sent just before it fails on this side while the
        // server may still commit it once it runs again: the case that used to be counted as a duplicate.
        var connectionString = new MySqlConnector.MySqlConnectionStringBuilder(database.ConnectionString) { DefaultCommandTimeout = 3 }.ConnectionString;
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, NewClientId(), connectionString,
            "--Ingest:SlowWriteWarning=00:00:02");

        var publishing = Load.PublishPacedAsync(broker.Host, broker.Port, topic, readings, TimeSpan.FromMilliseconds(20), ct);
        await MqttInsertRun.WaitForRowsAsync(database, 50, RowTimeout);
        var hang = Stopwatch.StartNew();
        server.Freeze();
        string slow;
        try
        {
            slow = await insert.WaitForErrorAsync(l => l.Contains("has not answered for", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        }
        finally
        {
            if (hang.Elapsed < TimeSpan.FromSeconds(8))
            {
                await Task.Delay(TimeSpan.FromSeconds(8) - hang.Elapsed, ct);
            }

            server.Thaw();
        }

        var hungFor = hang.Elapsed;
        var slowAfter = insert.Errors.Count(l => l.Contains("has not answered for", StringComparison.Ordinal));
        await using var publisher = await publishing;
        (await publisher.FlushAsync(TimeSpan.FromSeconds(60), ct)).Should().BeTrue();
        (await MqttInsertRun.WaitForRowsAsync(database, readings.Count, RowTimeout)).Should().Be(readings.Count, insert.Describe());
        insert.Terminate();
        (await insert.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, insert.Describe());

        slow.Should().Contain("has not answered for 2 s");
        slowAfter.Should().BeGreaterThanOrEqualTo(1);
        var unavailable = insert.Errors.Count(l => l.Contains("The database is unavailable", StringComparison.Ordinal));
        var back = insert.Errors.Where(l => l.Contains("The database is back", StringComparison.Ordinal)).ToList();
        // The 3 s command timeout ends the first write of the 8 s hang: one outage, said once, and its end.
        unavailable.Should().Be(1, "one outage is said once\n" + insert.Describe());
        back.Should().ContainSingle("the outage said ends with one line saying it is over");

        // Counted from the start of the first attempt that failed, which waited for its answer: not short by it.
        var seconds = double.Parse(OutageSeconds().Match(back[0]).Groups["s"].Value, CultureInfo.InvariantCulture);
        seconds.Should().BeGreaterThanOrEqualTo(hungFor.TotalSeconds - 2, back[0]);
        TestContext.Current.SendDiagnosticMessage($"hung {hungFor.TotalSeconds:0.0} s; {slow}; {back[0]}");

        var summary = insert.Output.Should().ContainSingle(l => l.StartsWith("stopped:", StringComparison.Ordinal)).Subject;
        summary.Should().StartWith($"stopped: {readings.Count} row(s) inserted, 0 duplicate(s) skipped, 0 payload(s) rejected", insert.Describe());
        insert.Errors.Concat(insert.Output).Should().NotContain(l => l.Contains(".;", StringComparison.Ordinal) || l.Contains("..", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BrokerDown_MqttInsertDoesNotSayConnected_AndSaysCannotReachOnce()
    {
        ServerEnvironment.RequirePrivateMariaDb();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await PrivateMariaDb.StartNewAsync(ct);
        await using var database = await TestDatabase.CreateAsync(server, ct);
        var port = PrivateMosquitto.FreePort();
        await using var insert = MqttInsertRun.Start("127.0.0.1", port, NewTopic(), NewClientId(), database.ConnectionString,
            "--Mqtt:ReconnectDelay=00:00:00.200", "--Mqtt:MaxReconnectDelay=00:00:00.500");

        await insert.WaitForErrorAsync(l => l.Contains("Cannot reach MQTT broker", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(4), ct);   // several more attempts at 0.5 s
        insert.Terminate();
        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(0, insert.Describe());
        insert.Output.Should().NotContain("mqtt server connected", insert.Describe());
        insert.Output.Should().NotContain(l => l.StartsWith("Connected with result code", StringComparison.Ordinal));
        insert.Errors.Count(l => l.Contains("Cannot reach MQTT broker", StringComparison.Ordinal)).Should().Be(1, "an outage is said once, not at every attempt\n" + insert.Describe());
        insert.Errors.Should().Contain(l => l.Contains($"127.0.0.1:{port}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeyboardPublisher_BrokerDown_SaysOnceWhatWasNotDeliveredAndExitsOne()
    {
        var port = PrivateMosquitto.FreePort();
        await using var keyboard = SampleProcess.Start("KeyboardPublisher", ["--Mqtt:Host=127.0.0.1", $"--Mqtt:Port={port}"]);
        await keyboard.WriteLineAsync("hello");
        await keyboard.WriteLineAsync("world");
        var clock = Stopwatch.StartNew();
        keyboard.CloseInput();

        var exitCode = await keyboard.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(1, "what was typed never reached a broker\n" + keyboard.Describe());
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "it gives up after its stop timeout, it does not hang");
        keyboard.Errors.Count(l => l.Contains("Cannot reach MQTT broker", StringComparison.Ordinal)).Should().BeLessThanOrEqualTo(1, keyboard.Describe());
        keyboard.Errors.Should().ContainSingle(l => l.Contains("2 message(s)", StringComparison.Ordinal) || l.Contains(" 2 ", StringComparison.Ordinal), keyboard.Describe());
        keyboard.Output.Should().NotContain(l => l.StartsWith("Connected with result code", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"over (?<s>[0-9]+(\.[0-9]+)?) s")]
    private static partial Regex OutageSeconds();
}
