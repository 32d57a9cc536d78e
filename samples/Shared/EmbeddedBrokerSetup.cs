using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Samples;

/// <summary>
/// <c>Mqtt:Embedded=true</c>: an MQTT broker inside the program (<see cref="EmbeddedBroker"/>, 127.0.0.1 only) instead
/// of mosquitto, on <c>Mqtt:Port</c> (0 for a free one); the program's own clients then connect to it.
/// </summary>
internal static class EmbeddedBrokerSetup
{
    /// <summary>Reads <c>Mqtt:Embedded</c>, or gives <paramref name="defaultValue"/> when it is not set.</summary>
    public static bool IsEnabled(IConfiguration configuration, bool defaultValue)
    {
        var value = configuration["Mqtt:Embedded"];
        if (string.IsNullOrWhiteSpace(value))
        {
            return defaultValue;
        }

        return bool.TryParse(value, out var enabled)
            ? enabled
            : throw new ConfigurationException($"Mqtt:Embedded: must be true or false (got '{value}')");
    }

    /// <summary>
    /// Takes the broker's settings from the <c>Mqtt</c> section and points <paramref name="clients"/> at it; adds a line
    /// to <paramref name="problems"/> for each setting the embedded broker cannot honour.
    /// </summary>
    public static EmbeddedBrokerOptions Prepare(IConfiguration configuration, List<string> problems, int defaultPort, params MqttOptions[] clients)
    {
        var options = SampleHost.Bind<EmbeddedBrokerOptions>(configuration, "Mqtt");
        if (configuration["Mqtt:Port"] is null)
        {
            options.Port = defaultPort;
        }

        problems.AddRange(options.Validate());
        var host = configuration["Mqtt:Host"];
        if (host is not null && host is not ("localhost" or "127.0.0.1"))
        {
            problems.Add($"Mqtt:Host: the embedded broker listens on 127.0.0.1 only; leave Mqtt:Host out, or set Mqtt:Embedded=false to use the broker at {host}");
        }

        // The clients are bound from the same section: their settings are the same.
        if (clients.Any(c => c.UseTls))
        {
            problems.Add("Mqtt:UseTls: the embedded broker speaks plain MQTT on 127.0.0.1; set Mqtt:UseTls=false or use an external broker (Mqtt:Embedded=false)");
        }

        if (clients.FirstOrDefault(c => c.Connections > 1) is { } shared)
        {
            problems.Add($"Mqtt:Connections: must be 1 with the embedded broker, which has no shared subscriptions (got {shared.Connections})");
        }

        foreach (var client in clients)
        {
            // Not "localhost", which may resolve to ::1 first: the broker is on IPv4 only. The real port is known once
            // the broker listens; until then a valid stand-in lets the other settings be checked.
            client.Host = "127.0.0.1";
            client.Port = options.Port is > 0 and <= 65535 ? options.Port : 1883;
        }

        return options;
    }

    /// <summary>Starts the broker and points <paramref name="clients"/> at the port it listens on.</summary>
    /// <exception cref="EmbeddedBrokerException">The port is taken; the message says how to choose another.</exception>
    public static async Task<EmbeddedBroker> StartAsync(EmbeddedBrokerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken, params MqttOptions[] clients)
    {
        var broker = new EmbeddedBroker(options, loggers.CreateLogger<EmbeddedBroker>());
        try
        {
            await broker.StartAsync(cancellationToken);
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        foreach (var client in clients)
        {
            client.Port = broker.Port;
        }

        return broker;
    }
}
