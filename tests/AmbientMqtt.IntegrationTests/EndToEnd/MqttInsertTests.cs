using System.Globalization;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// MqttInsert as a user runs it: a separate process between a real mosquitto and a real MariaDB.
/// </summary>
public sealed class MqttInsertTests(MqttServer broker, MariaDbFixture mariaDb)
{
    private static readonly TimeSpan RowTimeout = TimeSpan.FromSeconds(120);

    private static string NewTopic() => $"test/{Guid.NewGuid():N}/bme";

    private static string NewClientId() => $"insert-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task Bme280PublisherToTable_RowsHaveTokyoTimeIdentifierAndRoundedValues()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var topic = NewTopic();
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, NewClientId(), database.ConnectionString);
        await using var publisher = SampleProcess.Start("Bme280Publisher", [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100",
            $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}"]);

        await MqttInsertRun.WaitForRowsAsync(database, 10, RowTimeout);
        publisher.Terminate();
        (await publisher.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
        var published = publisher.Output.Where(l => l.StartsWith("publish するデータ:  ", StringComparison.Ordinal))
            .Select(l => AmbientPayload.Decode(Encoding.UTF8.GetBytes(l["publish するデータ:  ".Length..])))
            .ToList();
        var rows = await MqttInsertRun.WaitForRowsAsync(database, published.Count, RowTimeout);

        rows.Should().Be(published.Count, insert.Describe());
        var stored = (await database.QueryAsync("SELECT timestamp, identifier, temperature, humidity, pressure FROM Ambient ORDER BY timestamp"))
            .Select(r => (Timestamp: (DateTime)r[0], Identifier: (string)r[1], T: (double)r[2], H: (double)r[3], P: (double)r[4]))
            .ToList();
        stored.Select(s => s.Timestamp).Should().Equal(published.Select(Load.Tokyo));
        stored.Should().AllSatisfy(s => s.Identifier.Should().Be("tochigi_iot_899"));
        stored.Select(s => s.T).Should().Equal(published.Select(p => PythonRound.Round2(p.Temperature)));
        stored.Select(s => s.H).Should().Equal(published.Select(p => PythonRound.Round2(p.Humidity)));
        stored.Select(s => s.P).Should().Equal(published.Select(p => PythonRound.Round2(p.Pressure)));
        insert.Output.Should().Contain("db server connected").And.Contain("mqtt server connected").And.Contain("Connected with result code 0");
        insert.Output.Should().Contain(l => l.StartsWith("●NEW_DATA:  {'timestamp': ", StringComparison.Ordinal) && l.Contains("'identifier': 'tochigi_iot_899'", StringComparison.Ordinal));
        insert.Output.Should().Contain(" クエリを実行しました。(1 row affected.)");
    }

    [Fact]
    public async Task EmbeddedBroker_Bme280PublisherInTheOtherTerminal_RowsLandWithoutMosquitto()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var port = PrivateMosquitto.FreePort();
        await using var insert = await MqttInsertRun.StartReadyAsync("127.0.0.1", port, "raspi/bme", NewClientId(), database.ConnectionString, "--Mqtt:Embedded=true");

        // The tutorial's second terminal, with its default topic, on "localhost" as a user would type it.
        await using var publisher = SampleProcess.Start("Bme280Publisher", [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100", "--Mqtt:Host=localhost", $"--Mqtt:Port={port}"]);
        await MqttInsertRun.WaitForRowsAsync(database, 10, RowTimeout);
        publisher.Terminate();
        (await publisher.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, publisher.Describe());
        var published = publisher.Output.Where(l => l.StartsWith("publish するデータ:  ", StringComparison.Ordinal))
            .Select(l => AmbientPayload.Decode(Encoding.UTF8.GetBytes(l["publish するデータ:  ".Length..])))
            .ToList();
        var rows = await MqttInsertRun.WaitForRowsAsync(database, published.Count, RowTimeout);
        insert.Terminate();
        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));

        rows.Should().Be(published.Count, insert.Describe());
        var stored = (await database.QueryAsync("SELECT timestamp, temperature, humidity, pressure FROM Ambient ORDER BY timestamp"))
            .Select(r => (Timestamp: (DateTime)r[0], T: (double)r[1], H: (double)r[2], P: (double)r[3]))
            .ToList();
        stored.Select(s => s.Timestamp).Should().Equal(published.Select(Load.Tokyo));
        stored.Select(s => (s.T, s.H, s.P)).Should().Equal(published.Select(p => (PythonRound.Round2(p.Temperature), PythonRound.Round2(p.Humidity), PythonRound.Round2(p.Pressure))));
        insert.Output.Should().Contain($"embedded MQTT broker listening on 127.0.0.1:{port}");
        publisher.Output.Should().Contain("Connected with result code 0");
        exitCode.Should().Be(0, insert.Describe());
    }

    [Fact]
    public async Task SeedPayloads_BecomeTheSeedsRows()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var topic = NewTopic();
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, NewClientId(), database.ConnectionString);

        // The three readings the seed shows arriving (●NEW_DATA lines, rows 70130-70132 of its SELECT), as the
        // tutorial's publisher sends them: UTC, microseconds, unrounded values.
        string[] payloads =
        [
            """{"timestamp": "2024-10-09T06:30:59.927507+00:00", "temperature": 25.87190238, "humidity": 45.8623422, "pressure": 996.9312894}""",
            """{"timestamp": "2024-10-09T06:31:09.936963+00:00", "temperature": 25.88739287, "humidity": 45.9012382, "pressure": 996.8723111}""",
            """{"timestamp": "2024-10-09T06:31:19.946706+00:00", "temperature": 25.89392113, "humidity": 45.8987622, "pressure": 996.9611}""",

            // And the seed's own published lines of 2024-10-07.
            """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}""",
        ];
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, payloads.Select(Encoding.UTF8.GetBytes), cancellationToken: TestContext.Current.CancellationToken);

        (await MqttInsertRun.WaitForRowsAsync(database, 4, RowTimeout)).Should().Be(4);
        var rows = (await database.QueryAsync("SELECT DATE_FORMAT(timestamp, '%Y-%m-%d %H:%i:%s.%f'), identifier, temperature, humidity, pressure FROM Ambient ORDER BY timestamp DESC"))
            .Select(r => string.Join(" | ", r.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))))
            .ToList();
        rows.Should().Equal(
            "2024-10-09 15:31:19.946706 | tochigi_iot_899 | 25.89 | 45.9 | 996.96",
            "2024-10-09 15:31:09.936963 | tochigi_iot_899 | 25.89 | 45.9 | 996.87",
            "2024-10-09 15:30:59.927507 | tochigi_iot_899 | 25.87 | 45.86 | 996.93",
            "2024-10-08 08:54:50.547143 | tochigi_iot_899 | 26.73 | 57.53 | 997.81");
        insert.Output.Should().Contain("●NEW_DATA:  {'timestamp': '2024-10-09 15:30:59.927507+09:00', 'identifier': 'tochigi_iot_899', 'temperature': 25.87, 'humidity': 45.86, 'pressure': 996.93}");
    }

    [Fact]
    public async Task KillDashNineDuring5000Readings_RestartStoresEveryReadingExactlyOnce()
    {
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = NewTopic();
        var clientId = NewClientId();
        var readings = Load.Readings(5000);
        var first = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString);

        var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), window: 20, ct, pauseEvery: 20);
        var before = await MqttInsertRun.WaitForRowsAsync(database, 1000, RowTimeout);
        first.KillHard();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await first.DisposeAsync();
        before.Should().BeLessThan(5000, "the kill must land mid-stream");
        await publishing;
        await using var second = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString);

        var rows = await MqttInsertRun.WaitForRowsAsync(database, 5000, RowTimeout);

        rows.Should().Be(5000, second.Describe());
        (await MqttInsertRun.TimestampsAsync(database)).Should().BeEquivalentTo(readings.Select(Load.Tokyo));
        second.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task MariaDbDownFor10Seconds_EveryReadingExactlyOnceAndMqttInsertNeverExits()
    {
        broker.RequireAvailable();
        ServerEnvironment.RequirePrivateMariaDb();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await PrivateMariaDb.StartNewAsync(ct);
        await using var database = await TestDatabaseOn(server);
        var topic = NewTopic();
        var readings = Load.Readings(600);
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, NewClientId(), database.ConnectionString);

        var publishing = Load.PublishPacedAsync(broker.Host, broker.Port, topic, readings, TimeSpan.FromMilliseconds(25), ct);
        await MqttInsertRun.WaitForRowsAsync(database, 50, RowTimeout);
        await server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(10), ct);
        insert.HasExited.Should().BeFalse("MqttInsert must ride out a database restart");
        await server.StartAsync(ct);
        await using var publisher = await publishing;
        (await publisher.FlushAsync(TimeSpan.FromSeconds(30), ct)).Should().BeTrue();

        var rows = await MqttInsertRun.WaitForRowsAsync(database, readings.Count, RowTimeout);

        rows.Should().Be(readings.Count, insert.Describe());
        (await MqttInsertRun.TimestampsAsync(database)).Should().BeEquivalentTo(readings.Select(Load.Tokyo));
        insert.HasExited.Should().BeFalse();
        insert.Errors.Should().Contain(l => l.Contains("database is unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MosquittoRestartMidStream_EveryReadingExactlyOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await MqttServer.StartPrivateAsync();
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = NewTopic();
        var readings = Load.Readings(600);
        await using var insert = await MqttInsertRun.StartReadyAsync(server.Host, server.Port, topic, NewClientId(), database.ConnectionString);

        var publishing = Load.PublishPacedAsync(server.Host, server.Port, topic, readings, TimeSpan.FromMilliseconds(20), ct);
        await MqttInsertRun.WaitForRowsAsync(database, 100, RowTimeout);
        await server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await server.StartAsync();
        await using var publisher = await publishing;
        (await publisher.FlushAsync(TimeSpan.FromSeconds(30), ct)).Should().BeTrue();

        var rows = await MqttInsertRun.WaitForRowsAsync(database, readings.Count, RowTimeout);

        rows.Should().Be(readings.Count, insert.Describe());
        (await MqttInsertRun.TimestampsAsync(database)).Should().BeEquivalentTo(readings.Select(Load.Tokyo));
        insert.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task GoodReadingsMixedWithBadPayloads_AllGoodRowsLandAndEveryBadOneIsSetAside()
    {
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = NewTopic();
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, NewClientId(), database.ConnectionString);
        var good = Load.Readings(1000);
        var bad = new (string Kind, byte[] Payload, string Reason)[]
        {
            ("not JSON", "hello"u8.ToArray(), "not valid JSON"),
            ("not UTF-8", [0x7B, 0xC3, 0x28, 0x7D], "not UTF-8"),
            ("empty", [], "empty"),
            ("array", "[1, 2, 3]"u8.ToArray(), "array"),
            ("missing field", """{"timestamp": "2024-10-09T06:30:00Z", "temperature": 1, "humidity": 2}"""u8.ToArray(), "missing field 'pressure'"),
            ("string for number", """{"timestamp": "2024-10-09T06:30:00Z", "temperature": "hot", "humidity": 2, "pressure": 3}"""u8.ToArray(), "field 'temperature'"),
            ("NaN", """{"timestamp": "2024-10-09T06:30:00Z", "temperature": NaN, "humidity": 2, "pressure": 3}"""u8.ToArray(), "NaN"),
            ("Infinity", """{"timestamp": "2024-10-09T06:30:00Z", "temperature": 1, "humidity": Infinity, "pressure": 3}"""u8.ToArray(), "Infinity"),
            ("no offset", """{"timestamp": "2024-10-09T06:30:00", "temperature": 1, "humidity": 2, "pressure": 3}"""u8.ToArray(), "no UTC offset"),
            ("impossible date", """{"timestamp": "2024-02-30T06:30:00Z", "temperature": 1, "humidity": 2, "pressure": 3}"""u8.ToArray(), "not a real date"),
            ("1 MiB", Encoding.UTF8.GetBytes("{\"pad\": \"" + new string('x', 1 << 20) + "\"}"), "larger than"),
            ("long identifier", Encoding.UTF8.GetBytes($$"""{"timestamp": "2024-10-09T06:30:00Z", "temperature": 1, "humidity": 2, "pressure": 3, "identifier": "{{new string('n', 65)}}"}"""), "identifier"),
        };
        var payloads = new List<byte[]>();
        for (var i = 0; i < good.Count; i++)
        {
            payloads.Add(AmbientPayload.Encode(good[i]));
            if (i % 80 == 0 && i / 80 < bad.Length)
            {
                payloads.Add(bad[i / 80].Payload);
            }
        }

        await Load.PublishFastAsync(broker.Host, broker.Port, topic, payloads, cancellationToken: ct);

        (await MqttInsertRun.WaitForRowsAsync(database, 1000, RowTimeout)).Should().Be(1000, insert.Describe());
        (await MqttInsertRun.WaitForRowsAsync(database, bad.Length, RowTimeout, "Ambient_rejected")).Should().Be(bad.Length);
        var reasons = (await database.QueryAsync("SELECT reason, payload_bytes FROM Ambient_rejected")).Select(r => ((string)r[0], Convert.ToInt64(r[1], CultureInfo.InvariantCulture))).ToList();
        foreach (var (kind, payload, reason) in bad)
        {
            reasons.Should().Contain(r => r.Item1.Contains(reason, StringComparison.Ordinal) && r.Item2 == payload.Length, $"the {kind} payload should be set aside with its reason");
        }

        (await MqttInsertRun.TimestampsAsync(database)).Should().BeEquivalentTo(good.Select(Load.Tokyo));
        insert.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task SigtermWhileReadingsArrive_ExitsZeroAndNothingIsLost()
    {
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = NewTopic();
        var clientId = NewClientId();
        var readings = Load.Readings(3000);
        var first = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString);

        var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), window: 10, ct, pauseEvery: 20);
        (await MqttInsertRun.WaitForRowsAsync(database, 500, RowTimeout)).Should().BeLessThan(readings.Count, "SIGTERM must land mid-stream");
        first.Terminate();
        var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        exitCode.Should().Be(0, first.Describe());
        first.Output.Should().Contain(l => l.StartsWith("stopped: ", StringComparison.Ordinal));
        await first.DisposeAsync();
        await publishing;
        await using var second = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, clientId, database.ConnectionString);

        (await MqttInsertRun.WaitForRowsAsync(database, readings.Count, RowTimeout)).Should().Be(readings.Count, second.Describe());
        (await MqttInsertRun.TimestampsAsync(database)).Should().BeEquivalentTo(readings.Select(Load.Tokyo));
    }

    [Fact]
    public async Task IdentifierCarryingSql_IsStoredLiterally()
    {
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = NewTopic();
        const string Evil = "x'); DROP TABLE Ambient; -- `b` \"q\"";
        await using var insert = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, NewClientId(), database.ConnectionString, $"--Identifier={Evil}");
        var fromPayload = Load.Readings(1, identifier: "n'; DELETE FROM Ambient; #")[0];
        var fromConfig = Load.Readings(1, Load.Start + NodaTime.Duration.FromHours(1))[0];

        await Load.PublishFastAsync(broker.Host, broker.Port, topic, [AmbientPayload.Encode(fromPayload), AmbientPayload.Encode(fromConfig)], cancellationToken: ct);

        (await MqttInsertRun.WaitForRowsAsync(database, 2, RowTimeout)).Should().Be(2);
        var identifiers = (await database.QueryAsync("SELECT identifier FROM Ambient ORDER BY timestamp")).Select(r => (string)r[0]).ToList();
        identifiers.Should().Equal("n'; DELETE FROM Ambient; #", Evil);
    }

    [Theory]
    [InlineData("Ambient; DROP TABLE Ambient")]
    [InlineData("Amb`ient")]
    [InlineData("x'y")]
    public async Task TableNameCarryingSql_IsRefusedWithOneLineNamingTheKey(string table)
    {
        await using var insert = MqttInsertRun.Start("127.0.0.1", 1, "t", "c", "Server=127.0.0.1;Port=1;User ID=u", $"--Database:Table={table}");

        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().NotBe(0);
        insert.Errors.Should().ContainSingle(insert.Describe()).Which.Should().Contain("Database:Table");
    }

    [Fact]
    public async Task DatabaseUnreachableAtStart_SaysWhereAndKeepsRetryingUntilItIsThere()
    {
        broker.RequireAvailable();
        ServerEnvironment.RequirePrivateMariaDb();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await PrivateMariaDb.StartNewAsync(ct);
        await using var database = await TestDatabaseOn(server);
        await server.StopAsync();
        await using var insert = MqttInsertRun.Start(broker.Host, broker.Port, NewTopic(), NewClientId(), database.ConnectionString);

        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        insert.HasExited.Should().BeFalse(insert.Describe());
        insert.Errors.Should().ContainSingle(l => l.Contains("database is unavailable", StringComparison.Ordinal))
            .Which.Should().Contain($"127.0.0.1:{server.Port}");
        await server.StartAsync(ct);

        await insert.WaitForOutputAsync(l => l == "waiting for mqtt message", TimeSpan.FromSeconds(60));
        insert.Output.Should().Contain("db server connected");
    }

    [Fact]
    public async Task WrongPassword_ExitsNonZeroWithOneClearLineWithoutThePassword()
    {
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var builder = new MySqlConnector.MySqlConnectionStringBuilder(database.ConnectionString) { Password = "not-the-password-42" };
        await using var insert = MqttInsertRun.Start("127.0.0.1", 1, "t", "c", builder.ConnectionString);

        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().NotBe(0);
        var line = insert.Errors.Should().ContainSingle(l => l.StartsWith("error:", StringComparison.Ordinal), insert.Describe()).Subject;
        line.Should().Contain("denied");
        string.Join('\n', insert.Errors.Concat(insert.Output)).Should().NotContain("not-the-password-42");
    }

    [Fact]
    public async Task MissingDatabase_ExitsNonZeroWithOneClearLine()
    {
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var builder = new MySqlConnector.MySqlConnectionStringBuilder(database.ConnectionString) { Database = "no_such_db" };
        await using var insert = MqttInsertRun.Start("127.0.0.1", 1, "t", "c", builder.ConnectionString);

        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().NotBe(0);
        insert.Errors.Should().ContainSingle(l => l.StartsWith("error:", StringComparison.Ordinal), insert.Describe())
            .Which.Should().Contain("no_such_db");
    }

    [Theory]
    [InlineData("raspi/#/x", "the wildcard # must be a whole level and the last one")]
    [InlineData("raspi+", "the wildcard + must be a whole level")]
    [InlineData("raspi/x{identifier}", "{identifier} must be a whole level")]
    public async Task TopicTheBrokerWouldRefuse_ExitsTwoWithOneLineNamingTheKey(string topic, string problem)
    {
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        await using var insert = MqttInsertRun.Start(broker.Host, broker.Port, topic, NewClientId(), database.ConnectionString);

        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(2, insert.Describe());
        insert.Errors.Should().ContainSingle(insert.Describe()).Which.Should().StartWith("configuration error: Mqtt:Topic:").And.Contain(problem);
    }

    [Fact]
    public async Task BrokerRefusesTheSubscription_ExitsTwoSayingSo()
    {
        await using var server = await MqttServer.StartPrivateAsync(extraLines: "max_qos 0");
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        await using var insert = MqttInsertRun.Start(server.Host, server.Port, NewTopic(), NewClientId(), database.ConnectionString);

        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(2, insert.Describe());
        insert.Errors.Should().ContainSingle(l => l.StartsWith("configuration error:", StringComparison.Ordinal), insert.Describe())
            .Which.Should().Contain("granted QoS 0");
        insert.Output.Should().NotContain("mqtt server connected");
    }

    private static async Task<TestDatabase> TestDatabaseOn(PrivateMariaDb server)
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var connection = new MySqlConnector.MySqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new MySqlConnector.MySqlCommand($"CREATE DATABASE `{name}`", connection);
            await command.ExecuteNonQueryAsync();
        }

        var withDatabase = new MySqlConnector.MySqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
        return new TestDatabase(name, withDatabase, server.ConnectionString);
    }
}
