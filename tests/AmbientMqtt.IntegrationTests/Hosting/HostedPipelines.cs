using System.Collections.Concurrent;
using System.Globalization;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AmbientMqtt.IntegrationTests.Hosting;

/// <summary>
/// The two programs of the tutorial as hosts built with the extension methods: sensor → publisher
/// (<c>AddAmbientSensor</c>, <c>AddAmbientMqttPublisher</c>, <c>AddAmbientPublishing</c>) and subscriber → table
/// (<c>AddAmbientMqttSubscriber</c>, <c>AddAmbientMariaDb</c>, <c>AddAmbientIngest</c>), configured through the
/// configuration keys a user sets.
/// </summary>
internal static class HostedPipelines
{
    public const string Identifier = "hosting-test";

    public static IHost Ingest(MqttServer broker, string topic, string clientId, TestDatabase database, CapturingLoggerProvider? logs = null, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Mqtt:Host"] = broker.Host,
            ["Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
            ["Mqtt:Topic"] = topic,
            ["Mqtt:ClientId"] = clientId,
            ["Database:ConnectionString"] = database.ConnectionString,
            ["Database:TimeZone"] = "UTC",
            ["Identifier"] = Identifier,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return TestHost.Build(settings, (services, configuration) => services
            .AddAmbientMqttSubscriber(configuration)
            .AddAmbientMariaDb(configuration)
            .AddAmbientIngest(configuration), logs);
    }

    public static IHost Publisher(MqttServer broker, string topic, string clientId, TimeSpan interval, CapturingLoggerProvider? logs = null)
        => TestHost.Build(
            new Dictionary<string, string?>
            {
                ["Mqtt:Host"] = broker.Host,
                ["Mqtt:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
                ["Mqtt:Topic"] = topic,
                ["Mqtt:ClientId"] = clientId,
                ["Sensor:Kind"] = "simulated",
                ["Sensor:Seed"] = "3",
                ["Publish:Interval"] = interval.ToString("c", CultureInfo.InvariantCulture),
            },
            (services, configuration) => services
                .AddAmbientSensor(configuration)
                .AddAmbientMqttPublisher(configuration)
                .AddAmbientPublishing(configuration),
            logs);

    /// <summary>Starts the ingest host and waits until its subscription stands (which comes after the schema).</summary>
    public static async Task StartSubscribedAsync(IHost ingest, TimeSpan timeout)
    {
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ingest.Services.GetRequiredService<MqttReadingSubscriber>().Connected += (_, _) => subscribed.TrySetResult();
        await ingest.StartAsync(TestContext.Current.CancellationToken);
        await subscribed.Task.WaitAsync(timeout, TestContext.Current.CancellationToken);
    }

    /// <summary>Runs the publisher host until it has published at least <paramref name="count"/> readings, then stops it
    /// (which waits for the broker to have them all) and returns every reading it published.</summary>
    public static async Task<IReadOnlyList<AmbientReading>> PublishAsync(IHost publisher, int count, TimeSpan timeout)
    {
        var published = new ConcurrentQueue<AmbientReading>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.Services.GetRequiredService<PublishingPipeline>().ReadingPublished += (_, e) =>
        {
            published.Enqueue(e.Reading);
            if (published.Count >= count)
            {
                enough.TrySetResult();
            }
        };

        await publisher.StartAsync(TestContext.Current.CancellationToken);
        await enough.Task.WaitAsync(timeout, TestContext.Current.CancellationToken);
        await publisher.StopAsync(TestContext.Current.CancellationToken);
        return [.. published];
    }

    /// <summary>The stored form of a reading's timestamp: UTC, microseconds.</summary>
    public static DateTime Stored(AmbientReading reading)
    {
        var utc = reading.Timestamp.ToDateTimeUtc();
        return new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Unspecified);
    }
}
