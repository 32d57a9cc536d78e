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

    private static ServiceProvider Provider(Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> register)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging();
        register(services, configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });
    }
}
