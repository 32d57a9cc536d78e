using System.Globalization;
using AmbientMqtt.Ingest;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Hosting;

/// <summary>
/// Hosts built with the <c>AddAmbient…</c> extension methods, as a program builds them: a bad setting stops the host at
/// start-up with a one-line message naming the key; good settings move readings from the simulated sensor into the
/// table; stopping commits what is in hand; a problem that needs a person stops the host with exit code 1.
/// </summary>
public sealed class AmbientMqttServiceCollectionExtensionsTests(MqttServer broker, MariaDbFixture mariaDb)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("Mqtt:Port", "0", "Mqtt:Port: must be between 1 and 65535 (got 0)")]
    [InlineData("Mqtt:Port", "abc", "Mqtt:Port: 'abc' is not a whole number")]
    [InlineData("Mqtt:UseTls", "maybe", "Mqtt:UseTls: 'maybe' is not true or false")]
    [InlineData("Mqtt:Topic", "", "Mqtt:Topic: is empty")]
    [InlineData("Sensor:Kind", "thermometer", "Sensor:Kind: must be 'bme280' or 'simulated' (got 'thermometer')")]
    [InlineData("Sensor:Address", "0x78", "Sensor:Address: a BME280 answers at 0x76 or 0x77 (got 0x78)")]
    [InlineData("Sensor:HumidityOversampling", "Skip", "Sensor:HumidityOversampling: cannot be Skip")]
    [InlineData("Sensor:Filter", "X3", "Sensor:Filter: 'X3' is not one of Off, X2, X4, X8, X16")]
    [InlineData("Publish:Interval", "5s", "Publish:Interval: '5s' is not a duration such as 00:00:05")]
    [InlineData("Publish:Interval", "00:00:00", "Publish:Interval: must be between 00:00:00.010 and 1.00:00:00 (got 00:00:00)")]
    [InlineData("Database:ConnectionString", "", "Database:ConnectionString: is empty")]
    [InlineData("Database:ConnectionString", "Server=db;Colour=blue", "Database:ConnectionString: ")]
    [InlineData("Database:Table", "Ambient; DROP TABLE Ambient", "Database:Table: 'Ambient; DROP TABLE Ambient' is not allowed")]
    [InlineData("Database:TimeZone", "Mars/Olympus_Mons", "Database:TimeZone: 'Mars/Olympus_Mons' is not a known time zone")]
    [InlineData("Identifier", "an-identifier-that-is-far-too-long-for-the-column-of-sixty-four-chars", "Identifier: is 69 characters long; the table holds at most 64")]
    [InlineData("Ingest:MaxBatchSize", "0", "Ingest:MaxBatchSize: must be between 1 and 10000 (got 0)")]
    public async Task StartAsync_BadSetting_FailsWithOneLineNamingTheKey(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            // Nothing listens there: a host that got as far as connecting would say so in its log.
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = "1",
            ["Sensor:Kind"] = "simulated",
            ["Database:ConnectionString"] = "Server=127.0.0.1;Port=1;Database=iot_storage;User ID=iot",
            [key] = value,
        };
        var logs = new CapturingLoggerProvider();
        using var host = TestHost.Build(settings, (services, configuration) => services
            .AddAmbientSensor(configuration)
            .AddAmbientMqttPublisher(configuration)
            .AddAmbientPublishing(configuration)
            .AddAmbientMqttSubscriber(configuration)
            .AddAmbientMariaDb(configuration)
            .AddAmbientIngest(configuration), logs);

        var thrown = (await ((Func<Task>)(() => host.StartAsync(TestContext.Current.CancellationToken))).Should().ThrowAsync<Exception>()).Which;

        var failures = thrown is AggregateException aggregate ? aggregate.InnerExceptions : [thrown];
        failures.Should().AllBeOfType<OptionsValidationException>();
        var message = string.Join("; ", failures.Select(f => f.Message));
        message.Should().Contain(expected).And.NotContain("\n");
        logs.Entries.Should().NotContain(e => e.Category.StartsWith("AmbientMqtt", StringComparison.Ordinal), "nothing starts before the settings are good");
    }

    [Fact]
    public async Task StartAsync_GoodSettings_EveryPublishedReadingBecomesARow()
    {
        broker.RequireAvailable();
        Environment.ExitCode = 0;
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        var logs = new CapturingLoggerProvider();
        using var ingest = HostedPipelines.Ingest(broker, topic, "ingest-" + Guid.NewGuid().ToString("N")[..8], database, logs);
        using var publisher = HostedPipelines.Publisher(broker, topic, "publish-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromMilliseconds(20), logs);
        var pipeline = ingest.Services.GetRequiredService<IngestPipeline>();

        await HostedPipelines.StartSubscribedAsync(ingest, Long);
        var published = await HostedPipelines.PublishAsync(publisher, 40, Long);
        var rows = await MqttInsertRun.WaitForRowsAsync(database, published.Count, Long);
        await ingest.StopAsync(TestContext.Current.CancellationToken);

        rows.Should().Be(published.Count);
        pipeline.Inserted.Should().Be(published.Count);
        var stored = await database.QueryAsync("SELECT timestamp, identifier FROM `Ambient`");
        stored.Select(r => (DateTime)r[0]).Should().BeEquivalentTo(published.Select(HostedPipelines.Stored));
        stored.Select(r => (string)r[1]).Should().AllBe(HostedPipelines.Identifier);
        logs.Entries.Should().NotContain(e => e.Level >= LogLevel.Warning);
        Environment.ExitCode.Should().Be(0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // a shared subscription: acknowledgements grouped by the connection each message came on
    public async Task StopAsync_WhileABacklogDrains_CommitsWhatItHoldsAndTheNextStartStoresTheRestExactlyOnce(int connections)
    {
        broker.RequireAvailable();
        Environment.ExitCode = 0;
        const int Count = 3000;
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        var clientId = "ingest-" + Guid.NewGuid().ToString("N")[..8];
        var small = new Dictionary<string, string?>
        {
            ["Ingest:MaxBatchSize"] = "50",
            ["Mqtt:Connections"] = connections.ToString(CultureInfo.InvariantCulture),
        };
        var first = HostedPipelines.Ingest(broker, topic, clientId, database, extra: small);
        var pipeline = first.Services.GetRequiredService<IngestPipeline>();
        await HostedPipelines.StartSubscribedAsync(first, Long);
        var readings = Load.Readings(Count);
        var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), cancellationToken: TestContext.Current.CancellationToken);

        while (pipeline.Inserted < 300)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await first.StopAsync(TestContext.Current.CancellationToken);
        var committedAtStop = await database.ScalarAsync("SELECT COUNT(*) FROM `Ambient`");
        first.Dispose();
        await publishing;

        TestContext.Current.TestOutputHelper?.WriteLine($"stopped with {committedAtStop} of {Count} rows committed");
        committedAtStop.Should().Be(pipeline.Inserted, "what the pipeline took in was committed before it stopped, and nothing more");
        Environment.ExitCode.Should().Be(0);

        using var second = HostedPipelines.Ingest(broker, topic, clientId, database, extra: small);
        await second.StartAsync(TestContext.Current.CancellationToken);
        var rows = await MqttInsertRun.WaitForRowsAsync(database, Count, Long);
        await second.StopAsync(TestContext.Current.CancellationToken);

        rows.Should().Be(Count, "nothing is lost and nothing stored twice across the restart");
        (await MqttInsertRun.TimestampsAsync(database)).Should().BeEquivalentTo(readings.Select(HostedPipelines.Stored));
    }

    [Fact]
    public async Task StartAsync_BrokerRefusesTheSubscriber_StopsTheHostWithExitCode1AndOneErrorLine()
    {
        await using var refusing = await RefusingBroker.StartAsync();
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var logs = new CapturingLoggerProvider();
        var clientId = "ingest-" + Guid.NewGuid().ToString("N")[..8];
        using var host = HostedPipelines.Ingest(
            broker,
            $"test/{Guid.NewGuid():N}/bme",
            clientId,
            database,
            logs,
            new Dictionary<string, string?> { ["Mqtt:Host"] = refusing.Host, ["Mqtt:Port"] = refusing.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var stopping = host.StoppingAsync();
        Environment.ExitCode = 0;
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            await stopping.WaitAsync(Long, TestContext.Current.CancellationToken);
            await host.StopAsync(TestContext.Current.CancellationToken);

            Environment.ExitCode.Should().Be(1);
            var line = logs.Entries.Where(e => e.Level >= LogLevel.Error).Should().ContainSingle(string.Join(Environment.NewLine, logs.Entries)).Subject;
            line.Message.Should().Contain($"refused client '{clientId}'").And.Contain("Mqtt:Username").And.NotContain("\n");
            line.Exception.Should().BeNull("one line, not a stack trace");
        }
        finally
        {
            Environment.ExitCode = 0;
        }
    }

    [Fact]
    public async Task StartAsync_WrongDatabasePassword_StopsTheHostWithExitCode1AndOneCriticalLine()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var password = "wrong-" + Guid.NewGuid().ToString("N");
        var logs = new CapturingLoggerProvider();
        using var host = HostedPipelines.Ingest(
            broker,
            $"test/{Guid.NewGuid():N}/bme",
            "ingest-" + Guid.NewGuid().ToString("N")[..8],
            database,
            logs,
            new Dictionary<string, string?> { ["Database:ConnectionString"] = new MySqlConnectionStringBuilder(database.ConnectionString) { Password = password }.ConnectionString });
        var stopping = host.StoppingAsync();
        Environment.ExitCode = 0;
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            await stopping.WaitAsync(Long, TestContext.Current.CancellationToken);
            await host.StopAsync(TestContext.Current.CancellationToken);

            Environment.ExitCode.Should().Be(1);
            var problems = logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
            var line = problems.Should().ContainSingle(string.Join(Environment.NewLine, logs.Entries)).Subject;
            line.Level.Should().Be(LogLevel.Critical);
            line.Message.Should().Contain("refused the login").And.NotContain(password).And.NotContain("\n");
            line.Exception.Should().BeNull("one line, not a stack trace");
            host.Services.GetRequiredService<MqttReadingSubscriber>().Received.Should().Be(0, "the subscriber starts only once the database is ready");
        }
        finally
        {
            Environment.ExitCode = 0;
        }
    }
}
