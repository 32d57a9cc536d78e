using AmbientMqtt.Mqtt;
using AmbientMqtt.Sensors;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.Tests.Hosting;

/// <summary>What the extension methods register and bind, without any server: nothing here connects.</summary>
public sealed class AmbientMqttServiceCollectionExtensionsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddAmbientMariaDb_IdentifierAtTheRoot_BindsWithTheDatabaseSection()
    {
        await using var services = Provider(
            new() { ["Database:Table"] = "Ambient_2", ["Database:TimeZone"] = "UTC", ["Identifier"] = "pi-attic", ["Database:ConnectionString"] = "Server=db.example;Database=iot;User ID=iot;Password=secret" },
            (s, c) => s.AddAmbientMariaDb(c));

        var options = services.GetRequiredService<IOptions<MariaDbRepositoryOptions>>().Value;
        options.Table.Should().Be("Ambient_2");
        options.TimeZone.Should().Be("UTC");
        options.Identifier.Should().Be("pi-attic");
        new MySqlConnectionStringBuilder(services.GetRequiredService<MySqlDataSource>().ConnectionString).Server.Should().Be("db.example");
        services.GetRequiredService<IAmbientRepository>().Should().BeSameAs(services.GetRequiredService<MariaDbAmbientRepository>());
    }

    [Fact]
    public async Task AddAmbientMariaDb_NoSettings_UsesTheTutorialsDatabaseAndTable()
    {
        await using var services = Provider([], (s, c) => s.AddAmbientMariaDb(c));

        var connection = new MySqlConnectionStringBuilder(services.GetRequiredService<MySqlDataSource>().ConnectionString);
        connection.Server.Should().Be("localhost");
        connection.Database.Should().Be("iot_storage");
        connection.UserID.Should().Be("iot");
        var options = services.GetRequiredService<IOptions<MariaDbRepositoryOptions>>().Value;
        (options.Table, options.TimeZone, options.Identifier).Should().Be(("Ambient", "Asia/Tokyo", "tochigi_iot_899"));
    }

    [Fact]
    public async Task AddAmbientSensor_KindSimulated_ReadingsAreStampedByTheRegisteredClock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 10, 7, 23, 54, 50, TimeSpan.Zero));
        await using var services = Provider(new() { ["Sensor:Kind"] = "Simulated" }, (s, c) => s.AddSingleton<TimeProvider>(time).AddAmbientSensor(c));

        var sensor = services.GetRequiredService<ISensorSource>();
        var reading = await sensor.ReadAsync(Ct);

        sensor.Should().BeOfType<SimulatedSensor>();
        reading.Timestamp.Should().Be(Instant.FromDateTimeOffset(time.GetUtcNow()));
    }

    [Fact]
    public async Task AddAmbientMqttPublisher_CalledTwice_RegistersOnePublisherAndOneHostedService()
    {
        await using var services = Provider([], (s, c) => s.AddAmbientMqttPublisher(c).AddAmbientMqttPublisher(o => o.Topic = "other/topic"));

        services.GetServices<IHostedService>().Should().ContainSingle();
        services.GetRequiredService<IReadingPublisher>().Should().BeSameAs(services.GetRequiredService<MqttReadingPublisher>());
        services.GetRequiredService<MqttReadingPublisher>().Topic.Should().Be("other/topic", "an Action runs after the configuration is bound");
    }

    [Fact]
    public async Task AddAmbientMqttSubscriber_ActionWithPortZero_FailsNamingTheKey()
    {
        await using var services = Provider([], (s, _) => s.AddAmbientMqttSubscriber(o => o.Port = 0));

        var act = () => services.GetRequiredService<MqttReadingSubscriber>();

        act.Should().Throw<OptionsValidationException>().WithMessage("Mqtt:Port: must be between 1 and 65535 (got 0)");
    }

    [Theory]
    [InlineData("Sensor:Address", "seventy-six", "Sensor:Address: 'seventy-six' is not a whole number")]
    [InlineData("Sensor:TemperatureOversampling", "X3", "Sensor:TemperatureOversampling: 'X3' is not one of Skip, X1, X2, X4, X8, X16")]
    [InlineData("Sensor:MeasurementTimeout", "soon", "Sensor:MeasurementTimeout: 'soon' is not a duration such as 00:00:05 ([d.]hh:mm:ss[.fff])")]
    public async Task AddAmbientSensor_ValueThatDoesNotConvert_FailsNamingTheKeyAndTheExpectedForm(string key, string value, string expected)
    {
        await using var services = Provider(new() { [key] = value }, (s, c) => s.AddAmbientSensor(c));

        var act = () => services.GetRequiredService<ISensorSource>();

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Be(expected);
    }

    [Theory]
    [InlineData("Publish:SpoolMaxReadings", "abc", "Publish:SpoolMaxReadings: 'abc' is not a whole number")]
    [InlineData("Publish:SpoolMaxReadings", "0", "Publish:SpoolMaxReadings: must be at least 1 (got 0)")]
    [InlineData("Publish:SpoolPath", " ", "Publish:SpoolPath: is empty; set a file path (the directory is created), or remove the key for no spool")]
    [InlineData("HomeAssistant:DiscoveryPrefix", "ha/#", "HomeAssistant:DiscoveryPrefix: 'ha/#': a topic readings are published to cannot hold the wildcards + or #")]
    [InlineData("HomeAssistant:DiscoveryPrefix", "homeassistant/", "HomeAssistant:DiscoveryPrefix: 'homeassistant/' must be topic levels without a leading or trailing '/' or a placeholder (Home Assistant's default is homeassistant)")]
    [InlineData("HomeAssistant:Enabled", "yes", "HomeAssistant:Enabled: 'yes' is not true or false")]
    public async Task AddAmbientMqttPublisher_BadSpoolOrHomeAssistantSetting_OneLineNamingTheKey(string key, string value, string expected)
    {
        await using var services = Provider(new() { [key] = value }, (s, c) => s.AddAmbientMqttPublisher(c));

        var act = () => services.GetRequiredService<MqttReadingPublisher>();

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Be(expected);
    }

    [Fact]
    public async Task AddAmbientMqttPublisher_SpoolWithQos0_IsAConfigurationErrorNamingBothKeys()
    {
        await using var services = Provider(new() { ["Publish:SpoolPath"] = Path.Combine(Path.GetTempPath(), "never-opened-spool"), ["Mqtt:Qos"] = "0" }, (s, c) => s.AddAmbientMqttPublisher(c));

        var act = () => services.GetRequiredService<MqttReadingPublisher>();

        act.Should().Throw<OptionsValidationException>().Which.Message.Should()
            .Be("Publish:SpoolPath: needs Mqtt:Qos 1 or 2 (a reading leaves the spool when the broker acknowledges it, and QoS 0 has no acknowledgement)");
    }

    [Fact]
    public async Task AddAmbientMqttPublisher_SpoolPathInAFileNotADirectory_ExitCode2NamingTheKey()
    {
        var blocker = Path.GetTempFileName();
        try
        {
            await using var services = Provider(new() { ["Publish:SpoolPath"] = Path.Combine(blocker, "spool") }, (s, c) => s.AddAmbientMqttPublisher(c));
            var act = () => services.GetRequiredService<MqttReadingPublisher>();

            var (code, line) = AmbientHostExtensions.Describe(act.Should().Throw<ArgumentException>().Which);

            code.Should().Be(2);
            line.Should().StartWith($"configuration error: Publish:SpoolPath: cannot open '{Path.Combine(blocker, "spool")}': ");
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public async Task AddAmbientMqttPublisher_SpoolPath_SpoolKeepsReadingsAcrossANewPublisher()
    {
        var directory = Directory.CreateTempSubdirectory("ambientmqtt-spool-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["Publish:SpoolPath"] = Path.Combine(directory, "spool"), ["Publish:SpoolMaxReadings"] = "50", ["Mqtt:Port"] = "1" };
            var reading = new AmbientReading(Instant.FromUnixTimeSeconds(1_700_000_000), 20, 50, 1000);
            await using (var services = Provider(settings, (s, c) => s.AddAmbientMqttPublisher(c)))
            {
                var publisher = services.GetRequiredService<MqttReadingPublisher>();
                (await publisher.PublishAsync(reading, Ct)).Sequence.Should().Be(0);
                (await publisher.PublishAsync(reading, Ct)).Sequence.Should().Be(1);
            }

            await using var again = Provider(settings, (s, c) => s.AddAmbientMqttPublisher(c));
            var restarted = again.GetRequiredService<MqttReadingPublisher>();
            restarted.Pending.Should().Be(2);
            (await restarted.PublishAsync(reading, Ct)).Sequence.Should().Be(2);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> register)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        register(services, configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });
    }
}
