using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientMqtt.IntegrationTests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// Several sensor nodes as users run them: Bme280Publisher processes, one per node, on <c>raspi/{identifier}/bme</c>, one
/// MqttInsert for all, a private mosquitto with the project's settings and the shared MariaDB. Covers issue 12's
/// acceptance: rows under their node, availability after a kill -9, the spool across two kill -9s while the broker is
/// down, Home Assistant discovery.
/// </summary>
public sealed class NodeNetworkTests(MariaDbFixture mariaDb)
{
    private const string Printed = "publish するデータ:  ";
    private const string Template = "raspi/{identifier}/bme";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>How late mosquitto 2.0 may look at keep-alives: more than 5 whole seconds after its last look.</summary>
    private static readonly TimeSpan MosquittoKeepAliveCheck = TimeSpan.FromSeconds(7);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThreeNodesAndTheTutorialsPayload_OneMqttInsert_EveryRowUnderItsNode()
    {
        await using var broker = await MqttServer.StartPrivateAsync();
        await using var database = await mariaDb.CreateDatabaseAsync(Ct);
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, Template, "insert-nodes", database.ConnectionString);
        string[] nodes = ["node-1", "node-2", "node-3"];
        var publishers = nodes.Select(n => Publisher(broker, n, $"pub-{n}")).ToList();
        try
        {
            foreach (var publisher in publishers)
            {
                await publisher.WaitForOutputAsync(l => l.StartsWith("Connected with result code 0", StringComparison.Ordinal), Timeout);
            }

            await MqttInsertRun.WaitForRowsAsync(database, 30, Timeout);
            foreach (var publisher in publishers)
            {
                publisher.Terminate();
            }

            foreach (var publisher in publishers)
            {
                (await publisher.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, publisher.Describe());
            }

            // The tutorial's publisher (mqtt_bme280_publish02.py) sends no identifier: the topic names the node.
            const string tutorial = """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}""";
            await Load.PublishFastAsync(broker.Host, broker.Port, "raspi/node-9/bme", [Encoding.UTF8.GetBytes(tutorial)], cancellationToken: Ct);

            var printed = publishers.Select(PrintedReadings).ToList();
            var expected = printed.Sum(p => p.Count) + 1;
            var rows = await MqttInsertRun.WaitForRowsAsync(database, expected, Timeout);

            rows.Should().Be(expected, insert.Describe());
            var stored = await RowsByNodeAsync(database);
            stored.Keys.Should().BeEquivalentTo(["node-1", "node-2", "node-3", "node-9"]);
            for (var i = 0; i < nodes.Length; i++)
            {
                printed[i].Should().NotBeEmpty().And.AllSatisfy(r => r.Identifier.Should().Be(nodes[i]));
                stored[nodes[i]].Should().BeEquivalentTo(printed[i].Select(Load.Tokyo), $"every reading of {nodes[i]} under {nodes[i]}");
            }

            stored["node-9"].Should().Equal(new DateTime(2024, 10, 8, 8, 54, 50, DateTimeKind.Unspecified).AddTicks(5471430));
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"rows per node: {string.Join(", ", stored.Select(kv => $"{kv.Key}={kv.Value.Count}"))}; printed: {string.Join(", ", printed.Select(p => p.Count))}");
        }
        finally
        {
            foreach (var publisher in publishers)
            {
                await publisher.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task KillDashNine_AvailabilityOfflineRetainedWithinOneAndAHalfKeepAlive_RestartOnline()
    {
        var keepAlive = TimeSpan.FromSeconds(4);
        await using var broker = await MqttServer.StartPrivateAsync();
        const string status = "raspi/node-k/bme/status";
        await using var watcher = await TopicWatcher.StartAsync(broker, status);
        var args = new[] { $"--Mqtt:KeepAlive={keepAlive:c}" };
        await using (var first = Publisher(broker, "node-k", "pub-node-k-1", args))
        {
            await watcher.WaitForAsync("online", Timeout);
            (await RetainedAsync(broker, status)).Should().Be("online");

            var clock = Stopwatch.StartNew();
            first.KillHard();
            await watcher.WaitForAsync("offline", keepAlive * 1.5 + TimeSpan.FromSeconds(5));
            var seen = clock.Elapsed;

            seen.Should().BeLessThanOrEqualTo(keepAlive * 1.5, "the broker sends a vanished client's will within 1.5 times its keep-alive");
            (await RetainedAsync(broker, status)).Should().Be("offline", "the will is retained: a client that subscribes later reads it too");
            TestContext.Current.TestOutputHelper?.WriteLine($"offline seen {seen.TotalSeconds:0.000} s after kill -9 (keep-alive {keepAlive.TotalSeconds} s)");
        }

        await using var second = Publisher(broker, "node-k", "pub-node-k-2", args);
        await watcher.WaitForAsync("online", Timeout, after: 1);
        (await RetainedAsync(broker, status)).Should().Be("online");
        second.Terminate();
        (await second.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, second.Describe());
        (await RetainedAsync(broker, status)).Should().Be("offline", "a clean stop says offline itself");
    }

    [Fact]
    public async Task FrozenPublisher_AvailabilityOfflineWithinOneAndAHalfKeepAlive()
    {
        // A kill -9 closes the socket, so the broker sends the will at once; a Pi that loses power or its network closes
        // nothing, and only the keep-alive tells. A stopped process is that silent socket.
        var keepAlive = TimeSpan.FromSeconds(2);
        await using var broker = await MqttServer.StartPrivateAsync();
        const string status = "raspi/node-f/bme/status";
        await using var watcher = await TopicWatcher.StartAsync(broker, status);
        await using var publisher = Publisher(broker, "node-f", "pub-node-f", $"--Mqtt:KeepAlive={keepAlive:c}");
        await watcher.WaitForAsync("online", Timeout);

        Signals.Freeze(publisher.Id);
        var clock = Stopwatch.StartNew();
        try
        {
            await watcher.WaitForAsync("offline", keepAlive * 1.5 + MosquittoKeepAliveCheck + TimeSpan.FromSeconds(5));
            var seen = clock.Elapsed;

            // MQTT says 1.5 times the keep-alive; mosquitto 2.0 (src/keepalive.c) looks at keep-alives only once more than
            // 5 whole seconds have passed since it last looked, so its will can come up to that much later.
            seen.Should().BeLessThanOrEqualTo(keepAlive * 1.5 + MosquittoKeepAliveCheck, "the broker gives up on a silent client after 1.5 times its keep-alive, checked every 5 s");
            (await RetainedAsync(broker, status)).Should().Be("offline");
            TestContext.Current.TestOutputHelper?.WriteLine($"frozen publisher: offline seen {seen.TotalSeconds:0.000} s after SIGSTOP (keep-alive {keepAlive.TotalSeconds} s)");
        }
        finally
        {
            Signals.Thaw(publisher.Id);
        }
    }

    [Fact]
    public async Task BrokerDown_SpoolAcrossTwoKillDashNines_EveryPrintedReadingExactlyOnceInTheTable()
    {
        await using var broker = await MqttServer.StartPrivateAsync();
        await using var database = await mariaDb.CreateDatabaseAsync(Ct);
        var spoolDirectory = Directory.CreateTempSubdirectory("ambientmqtt-spool-").FullName;
        var spool = Path.Combine(spoolDirectory, "node-s.spool");
        try
        {
            // MqttInsert's session (its subscription) must exist on the broker before the readings arrive.
            await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, Template, "insert-spool", database.ConnectionString);
            await broker.StopAsync();

            var printed = new List<AmbientReading>();
            for (var run = 1; run <= 2; run++)
            {
                await using var killed = Publisher(broker, "node-s", $"pub-node-s-{run}", $"--Publish:SpoolPath={spool}");
                await killed.WaitForOutputAsync(_ => killed.CountOutput(l => l.StartsWith(Printed, StringComparison.Ordinal)) >= 15, Timeout);
                killed.KillHard();
                await killed.WaitForExitAsync(TimeSpan.FromSeconds(10));
                printed.AddRange(PrintedReadings(killed));
                if (run == 2)
                {
                    killed.Errors.Should().Contain(l => l.Contains("kept from an earlier run", StringComparison.Ordinal), killed.Describe());
                }
            }

            await using var last = Publisher(broker, "node-s", "pub-node-s-3", $"--Publish:SpoolPath={spool}");
            await last.WaitForOutputAsync(_ => last.CountOutput(l => l.StartsWith(Printed, StringComparison.Ordinal)) >= 10, Timeout);
            var clock = Stopwatch.StartNew();
            await broker.StartAsync();
            await last.WaitForOutputAsync(l => l.StartsWith("Connected with result code 0", StringComparison.Ordinal), Timeout);
            await MqttInsertRun.WaitForRowsAsync(database, printed.Count + 10, Timeout);
            var drained = clock.Elapsed;
            last.Terminate();
            (await last.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, last.Describe());
            printed.AddRange(PrintedReadings(last));

            var rows = await MqttInsertRun.WaitForRowsAsync(database, printed.Count, Timeout);
            var stored = (await RowsByNodeAsync(database))["node-s"];
            var duplicates = await database.ScalarAsync("SELECT COUNT(*) - COUNT(DISTINCT identifier, timestamp) FROM Ambient");

            stored.Should().OnlyHaveUniqueItems();
            duplicates.Should().Be(0);
            stored.Should().Contain(printed.Select(Load.Tokyo), "every reading printed was spooled before it was printed");

            // A kill -9 between the fsync and the print leaves a reading sent but never printed: at most one per kill.
            rows.Should().BeInRange(printed.Count, printed.Count + 2, insert.Describe());
            printed.Select(r => r.Sequence).Should().OnlyHaveUniqueItems("the spool's numbers survive the restarts")
                .And.AllSatisfy(s => s.Should().NotBeNull());
            TestContext.Current.TestOutputHelper?.WriteLine($"printed {printed.Count}, stored {rows}, seq {printed.Min(r => r.Sequence)}..{printed.Max(r => r.Sequence)}, table complete {drained.TotalSeconds:0.0} s after the broker came back");
        }
        finally
        {
            Directory.Delete(spoolDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task HomeAssistantEnabled_RetainedDeviceDiscovery_RepublishedWhenHomeAssistantSaysOnline()
    {
        await using var broker = await MqttServer.StartPrivateAsync();
        const string config = "homeassistant/device/node-h/config";
        await using var watcher = await TopicWatcher.StartAsync(broker, config);
        await using var publisher = Publisher(broker, "node-h", "pub-node-h", "--HomeAssistant:Enabled=true");
        await watcher.WaitForCountAsync(1, Timeout);

        var retained = await RetainedAsync(broker, config);
        using (var json = JsonDocument.Parse(retained))
        {
            var root = json.RootElement;
            root.GetProperty("state_topic").GetString().Should().Be("raspi/node-h/bme");
            root.GetProperty("availability_topic").GetString().Should().Be("raspi/node-h/bme/status");
            root.GetProperty("dev").GetProperty("ids")[0].GetString().Should().Be("ambientmqtt_node-h");
            root.GetProperty("o").GetProperty("name").GetString().Should().Be("AmbientMqtt");
            root.GetProperty("cmps").EnumerateObject().Select(c => c.Value.GetProperty("device_class").GetString())
                .Should().BeEquivalentTo(["temperature", "humidity", "atmospheric_pressure"]);
            root.GetProperty("cmps").GetProperty("temperature").GetProperty("expire_after").GetInt32().Should().Be(1, "three intervals of 0.1 s, in whole seconds");
        }

        // Home Assistant's birth message, as it sends it when it starts.
        await Load.PublishFastAsync(broker.Host, broker.Port, "homeassistant/status", [Encoding.UTF8.GetBytes("online")], cancellationToken: Ct);
        await watcher.WaitForCountAsync(2, Timeout);

        watcher.Payloads.Should().HaveCount(2).And.AllBe(retained);

        // Home Assistant's will (offline) is no birth message; its next start is.
        await Load.PublishFastAsync(broker.Host, broker.Port, "homeassistant/status", [Encoding.UTF8.GetBytes("offline"), Encoding.UTF8.GetBytes("online")], cancellationToken: Ct);
        await watcher.WaitForCountAsync(3, Timeout);
        publisher.Terminate();
        (await publisher.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, publisher.Describe());

        publisher.Errors.Count(l => l.Contains("(Home Assistant announced itself online)", StringComparison.Ordinal)).Should().Be(2, publisher.Describe());
        publisher.Errors.Count(l => l.Contains("Home Assistant discovery published", StringComparison.Ordinal)).Should().Be(3);
        watcher.Payloads.Should().HaveCount(3).And.AllBe(retained);
    }

    private static SampleProcess Publisher(PrivateMosquitto broker, string identifier, string clientId, params string[] extra)
        => SampleProcess.Start("Bme280Publisher", [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100", $"--Publish:Identifier={identifier}",
            $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={Template}", $"--Mqtt:ClientId={clientId}", .. extra]);

    private static List<AmbientReading> PrintedReadings(SampleProcess publisher) => publisher.Output
        .Where(l => l.StartsWith(Printed, StringComparison.Ordinal))
        .Select(l => AmbientPayload.Decode(Encoding.UTF8.GetBytes(l[Printed.Length..])))
        .ToList();

    private static async Task<Dictionary<string, List<DateTime>>> RowsByNodeAsync(TestDatabase database)
        => (await database.QueryAsync("SELECT identifier, timestamp FROM Ambient ORDER BY timestamp"))
            .GroupBy(r => (string)r[0], r => (DateTime)r[1])
            .ToDictionary(g => g.Key, g => g.ToList());

    /// <summary>What a client that subscribes now gets first on <paramref name="topic"/>: the retained message.</summary>
    private static async Task<string> RetainedAsync(PrivateMosquitto broker, string topic)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var first = new TaskCompletionSource<(string Payload, bool Retained)>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += e =>
        {
            first.TrySetResult((Encoding.UTF8.GetString(e.ApplicationMessage.Payload), e.ApplicationMessage.Retain));
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).WithClientId("retained-" + Guid.NewGuid().ToString("N")[..8]).Build(), Ct);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
        var (payload, retained) = await first.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await client.DisconnectAsync(cancellationToken: Ct);
        retained.Should().BeTrue($"the message on '{topic}' must be retained");
        return payload;
    }

    /// <summary>A live subscription to one topic, recording each message as it comes.</summary>
    private sealed class TopicWatcher : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly ConcurrentQueue<string> _payloads = new();

        public IReadOnlyList<string> Payloads => _payloads.ToArray();

        public static async Task<TopicWatcher> StartAsync(PrivateMosquitto broker, string topic)
        {
            var watcher = new TopicWatcher();
            watcher._client.ApplicationMessageReceivedAsync += e =>
            {
                watcher._payloads.Enqueue(Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
                return Task.CompletedTask;
            };
            await watcher._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).WithClientId("watch-" + Guid.NewGuid().ToString("N")[..8]).Build(), Ct);
            await watcher._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
            return watcher;
        }

        /// <summary>Waits for <paramref name="payload"/> to come more than <paramref name="after"/> times.</summary>
        public async Task WaitForAsync(string payload, TimeSpan timeout, int after = 0)
        {
            var clock = Stopwatch.StartNew();
            while (_payloads.Count(p => p == payload) <= after)
            {
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"'{payload}' did not come within {timeout}; got: {string.Join(", ", _payloads)}");
                }

                await Task.Delay(20, Ct);
            }
        }

        public async Task WaitForCountAsync(int count, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (_payloads.Count < count)
            {
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"{count} message(s) did not come within {timeout}; got {_payloads.Count}");
                }

                await Task.Delay(20, Ct);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }

            _client.Dispose();
        }
    }
}
