using System.Diagnostics.Metrics;
using AmbientMqtt;
using AmbientMqtt.HomeAssistant;
using AmbientMqtt.Hosting;
using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Sensors;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers AmbientMqtt with a host: the sensor, the MQTT publisher and subscriber, an MQTT broker inside the program,
/// the MariaDB or SQLite repository, and the two long-running services, sensor → publisher every interval
/// (<see cref="AddAmbientPublishing(IServiceCollection, IConfiguration)"/>) and subscriber → repository
/// (<see cref="AddAmbientIngest(IServiceCollection, IConfiguration)"/>).
/// </summary>
/// <remarks>
/// <para>Each method comes in two forms: one binds its section of the application's configuration (pass the root, such as
/// <c>builder.Configuration</c>; the keys are those of the README's configuration table: <c>Mqtt</c>, <c>Database</c>,
/// <c>Identifier</c>, <c>Sensor</c>, <c>Publish</c>, <c>Ingest</c>), the other takes an <c>Action</c> on the options.
/// Options are checked when the host starts (<c>ValidateOnStart</c>): a bad value, or one that does not even convert,
/// stops the host with an <see cref="OptionsValidationException"/> whose message names the key, for instance
/// <c>Mqtt:Port: must be between 1 and 65535 (got 0)</c> or <c>Mqtt:Port: 'abc' is not a whole number</c>
/// (<c>host.RunAmbientAsync()</c> prints it and returns exit code 2).</para>
/// <para>Everything is registered once, as a singleton (calling a method twice adds no second service), and stays
/// resolvable, so a program can subscribe to <see cref="MqttReadingPublisher.Connected"/>,
/// <see cref="PublishingPipeline.ReadingPublished"/> or <see cref="IngestPipeline.BatchCommitted"/> before it runs the
/// host. A service registered beforehand (an <see cref="ISensorSource"/> of your own, a <see cref="MySqlDataSource"/>,
/// a <see cref="TimeProvider"/>) is used instead of the default one. Metrics come from the host's
/// <see cref="IMeterFactory"/>.</para>
/// </remarks>
public static class AmbientMqttServiceCollectionExtensions
{
    private const string MqttSection = "Mqtt";
    private const string DatabaseSection = "Database";
    private const string IdentifierKey = "Identifier";
    private const string SensorSection = "Sensor";
    private const string PublishSection = "Publish";
    private const string IngestSection = "Ingest";
    private const string HomeAssistantSection = "HomeAssistant";

    /// <summary>
    /// Registers the <see cref="ISensorSource"/> that <c>Sensor:Kind</c> names: a <see cref="Bme280Sensor"/> on
    /// <c>Sensor:BusId</c> at <c>Sensor:Address</c> (with <c>Sensor:TemperatureOversampling</c>, …, <c>Sensor:Filter</c>),
    /// or a <see cref="SimulatedSensor"/> seeded with <c>Sensor:Seed</c>; with <c>Sensor:TemperatureOffset</c>,
    /// <c>Sensor:HumidityOffset</c> and <c>Sensor:PressureOffset</c> added to every reading.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Sensor</c> section is bound to
    /// <see cref="SensorOptions"/> and <see cref="Bme280Options"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>A BME280 is opened when the sensor is first resolved, at the latest when the host starts; if it cannot be
    /// opened, a <see cref="SensorException"/> names the bus, the address, the cause and <c>Sensor:Kind=simulated</c>.</remarks>
    public static IServiceCollection AddAmbientSensor(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<Bme280Options>(services, configuration, SensorSection, static (c, o) => c.Bind(o), SensorOptionsValidator.Instance);
        AddOptions<SensorOptions>(services, configuration, SensorSection, BindSensor, SensorOptionsValidator.Instance);
        return AddAmbientSensorCore(services);
    }

    /// <summary>
    /// Registers the <see cref="ISensorSource"/> that <see cref="SensorOptions.Kind"/> names: a <see cref="Bme280Sensor"/>
    /// or a <see cref="SimulatedSensor"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; the BME280's oversampling and filter are set with
    /// <c>services.Configure&lt;Bme280Options&gt;(…)</c>.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientSensor(this IServiceCollection services, Action<SensorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions<Bme280Options>(services, configuration: null, SensorSection, bind: null, SensorOptionsValidator.Instance);
        AddOptions(services, configuration: null, SensorSection, bind: null, SensorOptionsValidator.Instance, configure);
        return AddAmbientSensorCore(services);
    }

    /// <summary>
    /// Registers an <see cref="MqttReadingPublisher"/> (also as <see cref="IReadingPublisher"/>) that connects when the
    /// host starts and, when it stops, waits up to 10 seconds for queued messages to reach the broker.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Mqtt</c> section is bound to
    /// <see cref="MqttPublisherOptions"/>, <c>Publish:Identifier</c>, <c>Publish:SpoolPath</c> and
    /// <c>Publish:SpoolMaxReadings</c> to <see cref="MqttPublisherOptions.Identifier"/>,
    /// <see cref="MqttPublisherOptions.SpoolPath"/> and <see cref="MqttPublisherOptions.SpoolMaxReadings"/>, and the
    /// <c>HomeAssistant</c> section to <see cref="HomeAssistantOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>If the broker refuses the credentials or the client id, starting the host fails with an
    /// <see cref="MqttConnectionException"/>; an unreachable broker is retried in the background while readings queue
    /// (in the spool, with <c>Publish:SpoolPath</c>). With <c>HomeAssistant:Enabled=true</c> the publisher also publishes
    /// Home Assistant's discovery message for its node on every connection, with <c>expire_after</c> of three
    /// <c>Publish:Interval</c>s, and again when Home Assistant announces itself on <c>&lt;prefix&gt;/status</c>.</remarks>
    public static IServiceCollection AddAmbientMqttPublisher(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<MqttPublisherOptions>(services, configuration, MqttSection, static (c, o) => c.Bind(o), MqttOptionsValidator.Instance, o => ConfigurePublisher(configuration, o));
        AddOptions<HomeAssistantOptions>(services, configuration, HomeAssistantSection, static (c, o) => c.Bind(o), HomeAssistantOptionsValidator.Instance);
        return AddAmbientMqttPublisherCore(services);
    }

    /// <summary>
    /// Registers an <see cref="MqttReadingPublisher"/> (also as <see cref="IReadingPublisher"/>) that connects when the
    /// host starts and, when it stops, waits up to 10 seconds for queued messages to reach the broker.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientMqttPublisher(this IServiceCollection services, Action<MqttPublisherOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(services, configuration: null, MqttSection, bind: null, MqttOptionsValidator.Instance, configure);
        return AddAmbientMqttPublisherCore(services);
    }

    /// <summary>
    /// Registers an <see cref="MqttReadingSubscriber"/> (also as <see cref="IReadingSubscriber"/>). The service that
    /// <see cref="AddAmbientIngest(IServiceCollection, IConfiguration)"/> adds starts it once the database is ready;
    /// without that service, call <see cref="MqttReadingSubscriber.StartAsync"/> yourself.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Mqtt</c> section is bound to <see cref="MqttSubscriberOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientMqttSubscriber(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<MqttSubscriberOptions>(services, configuration, MqttSection, static (c, o) => c.Bind(o), MqttOptionsValidator.Instance);
        return AddAmbientMqttSubscriberCore(services);
    }

    /// <summary>
    /// Registers an <see cref="MqttReadingSubscriber"/> (also as <see cref="IReadingSubscriber"/>), started by the service
    /// that <see cref="AddAmbientIngest(IServiceCollection, Action{IngestOptions})"/> adds.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientMqttSubscriber(this IServiceCollection services, Action<MqttSubscriberOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(services, configuration: null, MqttSection, bind: null, MqttOptionsValidator.Instance, configure);
        return AddAmbientMqttSubscriberCore(services);
    }

    /// <summary>
    /// Registers an MQTT broker inside the program (<see cref="EmbeddedBroker"/>: MQTTnet's server on 127.0.0.1, on
    /// <c>Mqtt:Port</c>, 0 for a free one), started with the host before the clients connect, and points the publisher
    /// and subscriber registered in this program at it. Call it before <c>AddAmbientMqttPublisher</c> and
    /// <c>AddAmbientIngest</c>, so that it starts first.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Mqtt</c> section is bound to <see cref="EmbeddedBrokerOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>A client setting the embedded broker cannot honour (another <c>Mqtt:Host</c>, TLS, shared
    /// subscriptions) is a configuration error at start-up. A taken port stops the host with an
    /// <see cref="EmbeddedBrokerException"/> that says how to choose another.</remarks>
    public static IServiceCollection AddAmbientEmbeddedBroker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<EmbeddedBrokerOptions>(services, configuration, MqttSection, static (c, o) => c.Bind(o), EmbeddedBrokerOptionsValidator.Instance);
        return AddAmbientEmbeddedBrokerCore(services, configuration[$"{MqttSection}:Host"]);
    }

    /// <summary>
    /// Registers an MQTT broker inside the program (<see cref="EmbeddedBroker"/>), started with the host before the
    /// clients connect, and points the publisher and subscriber registered in this program at it.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientEmbeddedBroker(this IServiceCollection services, Action<EmbeddedBrokerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(services, configuration: null, MqttSection, bind: null, EmbeddedBrokerOptionsValidator.Instance, configure);
        return AddAmbientEmbeddedBrokerCore(services, configuredHost: null);
    }

    /// <summary>
    /// Registers a <see cref="MySqlDataSource"/> on <c>Database:ConnectionString</c> (unless one is registered already)
    /// and a <see cref="MariaDbAmbientRepository"/> (also as <see cref="IAmbientRepository"/>) writing to
    /// <c>Database:Table</c> in <c>Database:TimeZone</c>, with <c>Identifier</c> for readings that do not name their node.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Database</c> section and its root key
    /// <c>Identifier</c> are bound to <see cref="MariaDbRepositoryOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>The connection string defaults to the tutorial's, <c>Server=localhost;Port=3306;Database=iot_storage;User ID=iot</c>.
    /// Only its syntax is checked at start-up; whether the server takes it shows when the schema is prepared.</remarks>
    public static IServiceCollection AddAmbientMariaDb(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<MariaDbConnectionOptions>(services, configuration, DatabaseSection, static (c, o) => c.Bind(o), new MariaDbConnectionOptionsValidator());
        AddOptions<MariaDbRepositoryOptions>(services, configuration, DatabaseSection, static (c, o) => c.Bind(o), MariaDbRepositoryOptionsValidator.Instance, o =>
        {
            o.Identifier = configuration[IdentifierKey] ?? o.Identifier;
        });
        return AddAmbientMariaDbCore(services);
    }

    /// <summary>
    /// Registers a <see cref="MySqlDataSource"/> on <paramref name="connectionString"/> (unless one is registered already)
    /// and a <see cref="MariaDbAmbientRepository"/> (also as <see cref="IAmbientRepository"/>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="connectionString">The MariaDB server, database, user and password.</param>
    /// <param name="configure">Sets the table, time zone and default identifier; the defaults are the tutorial's.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty.</exception>
    public static IServiceCollection AddAmbientMariaDb(this IServiceCollection services, string connectionString, Action<MariaDbRepositoryOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        AddOptions<MariaDbConnectionOptions>(services, configuration: null, DatabaseSection, bind: null, new MariaDbConnectionOptionsValidator(), o => o.ConnectionString = connectionString);
        AddOptions(services, configuration: null, DatabaseSection, bind: null, MariaDbRepositoryOptionsValidator.Instance, configure);
        return AddAmbientMariaDbCore(services);
    }

    /// <summary>
    /// Registers a <see cref="SqliteAmbientRepository"/> (also as <see cref="IAmbientRepository"/>) on the file
    /// <c>Database:Path</c> (by default <see cref="SqliteRepositoryOptions.DefaultPath"/>), with <c>Database:Table</c>,
    /// <c>Database:TimeZone</c> and <c>Identifier</c> as for MariaDB: nothing to install.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Database</c> section and its root key
    /// <c>Identifier</c> are bound to <see cref="SqliteRepositoryOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientSqlite(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<SqliteRepositoryOptions>(services, configuration, DatabaseSection, static (c, o) => c.Bind(o), SqliteRepositoryOptionsValidator.Instance, o =>
        {
            o.Identifier = configuration[IdentifierKey] ?? o.Identifier;
        });
        return AddAmbientSqliteCore(services);
    }

    /// <summary>Registers a <see cref="SqliteAmbientRepository"/> (also as <see cref="IAmbientRepository"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the file, table, time zone and default identifier.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientSqlite(this IServiceCollection services, Action<SqliteRepositoryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(services, configuration: null, DatabaseSection, bind: null, SqliteRepositoryOptionsValidator.Instance, configure);
        return AddAmbientSqliteCore(services);
    }

    /// <summary>
    /// Adds the service that takes a reading from the <see cref="ISensorSource"/> every <c>Publish:Interval</c> and hands it
    /// to the <see cref="IReadingPublisher"/> (with <c>Publish:Identifier</c> on it, when set), and registers its
    /// <see cref="PublishingPipeline"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Publish</c> section is bound to <see cref="PublishOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>Register the sensor and the publisher too (<see cref="AddAmbientSensor(IServiceCollection, IConfiguration)"/>,
    /// <see cref="AddAmbientMqttPublisher(IServiceCollection, IConfiguration)"/>). The loop waits with the registered
    /// <see cref="TimeProvider"/>. An unexpected failure stops the host and sets <see cref="Environment.ExitCode"/> to 1.</remarks>
    public static IServiceCollection AddAmbientPublishing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<PublishOptions>(services, configuration, PublishSection, static (c, o) => c.Bind(o), PublishOptionsValidator.Instance);
        return AddAmbientPublishingCore(services);
    }

    /// <summary>
    /// Adds the service that takes a reading from the <see cref="ISensorSource"/> every <see cref="PublishOptions.Interval"/>
    /// and hands it to the <see cref="IReadingPublisher"/>, and registers its <see cref="PublishingPipeline"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientPublishing(this IServiceCollection services, Action<PublishOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(services, configuration: null, PublishSection, bind: null, PublishOptionsValidator.Instance, configure);
        return AddAmbientPublishingCore(services);
    }

    /// <summary>
    /// Adds the service that moves readings from the <see cref="IReadingSubscriber"/> into the
    /// <see cref="IAmbientRepository"/> in batches (<c>Ingest:MaxBatchSize</c>, …), and registers its
    /// <see cref="IngestPipeline"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The application's configuration; its <c>Ingest</c> section is bound to <see cref="IngestOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <remarks>
    /// <para>Register the subscriber and a repository too (<see cref="AddAmbientMqttSubscriber(IServiceCollection, IConfiguration)"/>,
    /// <see cref="AddAmbientMariaDb(IServiceCollection, IConfiguration)"/> or <see cref="AddAmbientSqlite(IServiceCollection, IConfiguration)"/>).
    /// The service prepares the schema first, waiting for the database as long as it is unreachable, and only then starts
    /// the subscriber, so the subscriber's first <see cref="MqttReadingSubscriber.Connected"/> means the table and the
    /// subscription are both ready.</para>
    /// <para>When the host stops (Ctrl+C, SIGTERM), it stops receiving, commits and acknowledges what it holds, and
    /// returns. A problem that needs a person (a wrong password, a missing database or privilege, credentials the broker
    /// refuses) is logged as one critical line, stops the host and sets <see cref="Environment.ExitCode"/> to 1; a
    /// subscription the broker refuses (a setting) sets it to 2.</para>
    /// </remarks>
    public static IServiceCollection AddAmbientIngest(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddOptions<IngestOptions>(services, configuration, IngestSection, static (c, o) => c.Bind(o), IngestOptionsValidator.Instance);
        return AddAmbientIngestCore(services);
    }

    /// <summary>
    /// Adds the service that moves readings from the <see cref="IReadingSubscriber"/> into the
    /// <see cref="IAmbientRepository"/>, and registers its <see cref="IngestPipeline"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientIngest(this IServiceCollection services, Action<IngestOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddOptions(services, configuration: null, IngestSection, bind: null, IngestOptionsValidator.Instance, configure);
        return AddAmbientIngestCore(services);
    }

    /// <summary><c>Sensor:Address</c> as the tutorial and i2cdetect write it (<c>0x76</c>), or in decimal (118).</summary>
    internal static void BindSensor(IConfiguration section, SensorOptions options)
    {
        var raw = section[nameof(SensorOptions.Address)]?.Trim();
        if (raw is not null && raw.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(raw.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var address))
        {
            // The source-generated binder reads whole numbers in decimal only: bind the rest, then the address. The
            // rest keeps its section's path, so that a bad value among it is still named Sensor:Seed, not Seed.
            var path = (section as IConfigurationSection)?.Path ?? SensorSection;
            var rest = new ConfigurationBuilder()
                .AddInMemoryCollection(section.AsEnumerable(makePathsRelative: true)
                    .Where(kv => kv.Key.Length > 0 && !kv.Key.Equals(nameof(SensorOptions.Address), StringComparison.OrdinalIgnoreCase))
                    .Select(kv => new KeyValuePair<string, string?>($"{path}:{kv.Key}", kv.Value)))
                .Build();
            rest.GetSection(path).Bind(options);
            options.Address = address;
            return;
        }

        section.Bind(options);
    }

    private static IServiceCollection AddAmbientSensorCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var sensor = sp.GetRequiredService<IOptions<SensorOptions>>().Value;
            var bme280 = sp.GetRequiredService<IOptions<Bme280Options>>().Value;
            return SensorFactory.Create(sensor, bme280, TimeProviderOf(sp));
        });
        return services;
    }

    /// <summary>The publisher's settings that live in the <c>Publish</c> section: <c>Publish:Identifier</c>,
    /// <c>Publish:SpoolPath</c>, <c>Publish:SpoolMaxReadings</c> (here and in <see cref="AmbientHost"/>).</summary>
    internal static void ConfigurePublisher(IConfiguration configuration, MqttPublisherOptions o)
    {
        o.Identifier = configuration[$"{PublishSection}:{nameof(PublishOptions.Identifier)}"] ?? o.Identifier;
        o.SpoolPath = configuration[$"{PublishSection}:{nameof(MqttPublisherOptions.SpoolPath)}"] ?? o.SpoolPath;
        if (configuration[$"{PublishSection}:{nameof(MqttPublisherOptions.SpoolMaxReadings)}"] is { } max)
        {
            o.SpoolMaxReadings = int.TryParse(max, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new OptionsValidationException(Options.Options.DefaultName, typeof(MqttPublisherOptions), [$"{PublishSection}:{nameof(MqttPublisherOptions.SpoolMaxReadings)}: '{max}' is not a whole number"]);
        }
    }

    private static IServiceCollection AddAmbientMqttPublisherCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var homeAssistant = sp.GetService<IOptions<HomeAssistantOptions>>()?.Value;
            var interval = homeAssistant is { Enabled: true } ? sp.GetService<IOptions<PublishOptions>>()?.Value.Interval : null;
            var publisher = new MqttReadingPublisher(
                sp.GetRequiredService<IOptions<MqttPublisherOptions>>().Value,
                sp.GetService<ILogger<MqttReadingPublisher>>(),
                TimeProviderOf(sp),
                sp.GetService<IMeterFactory>());
            if (homeAssistant is { Enabled: true })
            {
                HomeAssistantDiscovery.Attach(publisher, homeAssistant, interval ?? new PublishOptions().Interval, sp.GetService<ILogger<HomeAssistantDiscovery>>());
            }

            return publisher;
        });
        services.TryAddSingleton<IReadingPublisher>(sp => sp.GetRequiredService<MqttReadingPublisher>());
        AddHostedOnce<MqttPublisherService>(services);
        return services;
    }

    private static IServiceCollection AddAmbientMqttSubscriberCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new MqttReadingSubscriber(
            sp.GetRequiredService<IOptions<MqttSubscriberOptions>>().Value,
            sp.GetService<ILogger<MqttReadingSubscriber>>(),
            TimeProviderOf(sp),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IReadingSubscriber>(sp => sp.GetRequiredService<MqttReadingSubscriber>());
        return services;
    }

    private static IServiceCollection AddAmbientEmbeddedBrokerCore(IServiceCollection services, string? configuredHost)
    {
        services.TryAddSingleton(sp => new EmbeddedBroker(
            sp.GetRequiredService<IOptions<EmbeddedBrokerOptions>>().Value,
            sp.GetService<ILogger<EmbeddedBroker>>()));
        AddHostedOnce<EmbeddedBrokerService>(services);

        // The clients of this program connect to it, wherever the configuration pointed them.
        var clients = new EmbeddedClientValidator(configuredHost);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MqttPublisherOptions>>(clients));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MqttSubscriberOptions>>(clients));
        services.AddSingleton<IPostConfigureOptions<MqttPublisherOptions>>(sp => new PostConfigureOptions<MqttPublisherOptions, EmbeddedBroker>(
            Options.Options.DefaultName, sp.GetRequiredService<EmbeddedBroker>(), (o, broker) => (o.Host, o.Port) = (broker.Host, broker.Port)));
        services.AddSingleton<IPostConfigureOptions<MqttSubscriberOptions>>(sp => new PostConfigureOptions<MqttSubscriberOptions, EmbeddedBroker>(
            Options.Options.DefaultName, sp.GetRequiredService<EmbeddedBroker>(), (o, broker) => (o.Host, o.Port) = (broker.Host, broker.Port)));
        return services;
    }

    private static IServiceCollection AddAmbientMariaDbCore(IServiceCollection services)
    {
        // Not wired to the host's logging: MySqlConnector's own lines would double the repository's one-line messages.
        services.TryAddSingleton(sp => new MySqlDataSourceBuilder(
            sp.GetRequiredService<IOptions<MariaDbConnectionOptions>>().Value.ConnectionString).Build());
        services.TryAddSingleton(sp => new MariaDbAmbientRepository(
            sp.GetRequiredService<MySqlDataSource>(),
            sp.GetRequiredService<IOptions<MariaDbRepositoryOptions>>().Value,
            sp.GetService<ILogger<MariaDbAmbientRepository>>(),
            sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IAmbientRepository>(sp => sp.GetRequiredService<MariaDbAmbientRepository>());
        return services;
    }

    private static IServiceCollection AddAmbientSqliteCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new SqliteAmbientRepository(
            sp.GetRequiredService<IOptions<SqliteRepositoryOptions>>().Value,
            sp.GetService<ILogger<SqliteAmbientRepository>>()));
        services.TryAddSingleton<IAmbientRepository>(sp => sp.GetRequiredService<SqliteAmbientRepository>());
        return services;
    }

    private static IServiceCollection AddAmbientPublishingCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            // Options first, so a bad setting is reported before the sensor is opened or the broker is reached.
            var options = sp.GetRequiredService<IOptions<PublishOptions>>().Value;
            return new PublishingPipeline(
                sp.GetRequiredService<ISensorSource>(),
                sp.GetRequiredService<IReadingPublisher>(),
                options,
                sp.GetService<ILogger<PublishingPipeline>>(),
                TimeProviderOf(sp),
                sp.GetService<IMeterFactory>());
        });
        AddHostedOnce<PublishingService>(services);
        return services;
    }

    private static IServiceCollection AddAmbientIngestCore(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new IngestPipeline(
            sp.GetRequiredService<IReadingSubscriber>(),
            sp.GetRequiredService<IAmbientRepository>(),
            sp.GetRequiredService<IOptions<IngestOptions>>().Value,
            sp.GetService<ILogger<IngestPipeline>>(),
            TimeProviderOf(sp),
            sp.GetService<IMeterFactory>()));
        AddHostedOnce<IngestService>(services);
        return services;
    }

    private static void AddHostedOnce<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TService>(IServiceCollection services)
        where TService : class, Microsoft.Extensions.Hosting.IHostedService
        => services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, TService>());

    /// <summary>Binds <paramref name="section"/> (when configuration is given), applies <paramref name="configure"/>,
    /// and registers the options type's one validator, run when the host starts.</summary>
    private static void AddOptions<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties | System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceCollection services,
        IConfiguration? configuration,
        string section,
        Action<IConfiguration, TOptions>? bind,
        IValidateOptions<TOptions> validator,
        Action<TOptions>? configure = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<TOptions>();
        if (configuration is not null && bind is not null)
        {
            var bound = configuration.GetSection(section);
            builder.Configure(options => ConfigurationBinding.Bind(bound, options, bind));
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(validator));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ProgramExit>();
    }

    private static TimeProvider TimeProviderOf(IServiceProvider services) => services.GetService<TimeProvider>() ?? TimeProvider.System;
}
