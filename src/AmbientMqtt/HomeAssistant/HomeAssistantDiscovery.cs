using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AmbientMqtt.Logging;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace AmbientMqtt.HomeAssistant;

/// <summary>
/// Home Assistant's device-based MQTT discovery for one node: a retained message on
/// <c>&lt;prefix&gt;/device/&lt;node&gt;/config</c> that describes the node as a device (<c>dev</c>) with three sensor
/// components (<c>cmps</c>) reading the node's state topic, published on every connection and again whenever Home
/// Assistant announces itself (<c>online</c> on <c>&lt;prefix&gt;/status</c>, its birth message).
/// </summary>
internal sealed class HomeAssistantDiscovery
{
    /// <summary>Where the payload says it comes from (the <c>o</c> block).</summary>
    internal const string OriginName = "AmbientMqtt";

    internal const string OriginUrl = "https://github.com/ambientmqtt/AmbientMqtt";

    /// <summary>How many publish intervals without a reading before Home Assistant shows a sensor as unavailable.</summary>
    internal const int ExpireAfterIntervals = 3;

    private readonly ILogger _logger;
    private readonly MqttQualityOfServiceLevel _qos;

    internal HomeAssistantDiscovery(DiscoveryNode node, string prefix, string? availabilityTopic, string online, string offline, TimeSpan interval, int qos, ILogger? logger = null)
    {
        Node = node;
        ConfigTopic = $"{prefix}/device/{node.Id}/config";
        StatusTopic = $"{prefix}/status";
        AvailabilityTopic = availabilityTopic;
        Online = online;
        Offline = offline;
        ExpireAfterSeconds = (int)Math.Min(int.MaxValue, Math.Max(1, Math.Ceiling(interval.TotalSeconds * ExpireAfterIntervals)));
        Qos = qos;
        _qos = (MqttQualityOfServiceLevel)Math.Max(1, qos);
        _logger = logger ?? NullLogger.Instance;
        Payload = Build();
    }

    public DiscoveryNode Node { get; }

    public string ConfigTopic { get; }

    public string StatusTopic { get; }

    public string? AvailabilityTopic { get; }

    public string Online { get; }

    public string Offline { get; }

    public int ExpireAfterSeconds { get; }

    public int Qos { get; }

    /// <summary>Gets the discovery message (JSON, UTF-8).</summary>
    public byte[] Payload { get; }

    /// <summary>The discovery of <paramref name="publisher"/>'s node, published on each of its connections.</summary>
    public static HomeAssistantDiscovery Attach(MqttReadingPublisher publisher, HomeAssistantOptions options, TimeSpan interval, ILogger? logger)
    {
        var o = publisher.Options;
        var node = new DiscoveryNode(NodeId(o.Identifier ?? publisher.ClientId), o.Identifier ?? publisher.ClientId, publisher.Topic);
        var discovery = new HomeAssistantDiscovery(node, options.DiscoveryPrefix, publisher.AvailabilityTopic, o.AvailabilityOnline, o.AvailabilityOffline, interval, o.Qos, logger);
        var client = publisher.Client;
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == discovery.StatusTopic
                && Encoding.UTF8.GetString(e.ApplicationMessage.Payload).Trim() == "online")
            {
                // Not awaited here: MQTTnet reads the PUBACK of our publish on the loop that is running this handler.
                _ = Task.Run(() => discovery.PublishAsync(client, "Home Assistant announced itself online", CancellationToken.None));
            }

            return Task.CompletedTask;
        };
        publisher.OnEveryConnection(async (c, ct) =>
        {
            await discovery.PublishAsync(c, "connected", ct).ConfigureAwait(false);
            try
            {
                await c.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(discovery.StatusTopic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct).ConfigureAwait(false);
            }
            catch (MqttCommunicationException ex)
            {
                Log.DiscoveryFailed(discovery._logger, discovery.StatusTopic, ex.Message);
            }
        });
        return discovery;
    }

    /// <summary>The node's id in the discovery topic and the unique ids: Home Assistant allows <c>[a-zA-Z0-9_-]</c>, so
    /// any other character becomes <c>_</c>.</summary>
    internal static string NodeId(string identifier)
    {
        var id = new StringBuilder(identifier.Length);
        foreach (var c in identifier)
        {
            id.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return id.ToString();
    }

    /// <summary>Publishes the retained discovery message; a failure is logged, and the next connection tries again.</summary>
    public async Task PublishAsync(IMqttClient client, string reason, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(ConfigTopic)
            .WithPayload(Payload)
            .WithRetainFlag()
            .WithQualityOfServiceLevel(_qos)
            .Build();
        try
        {
            var result = await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (result.IsSuccess)
            {
                Log.DiscoveryPublished(_logger, ConfigTopic, reason);
            }
            else
            {
                Log.DiscoveryFailed(_logger, ConfigTopic, result.ReasonCode.ToString());
            }
        }
        catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            Log.DiscoveryFailed(_logger, ConfigTopic, ex.Message);
        }
    }

    private byte[] Build()
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        var version = typeof(HomeAssistantDiscovery).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

        // Relaxed escaping: "°C" stays readable in mosquitto_sub's output; it is the same JSON either way.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("dev");
            w.WriteStartArray("ids");
            w.WriteStringValue("ambientmqtt_" + Node.Id);
            w.WriteEndArray();
            w.WriteString("name", Node.Name);
            w.WriteString("mdl", "BME280");
            w.WriteString("sw", version);
            w.WriteEndObject();

            w.WriteStartObject("o");
            w.WriteString("name", OriginName);
            w.WriteString("sw", version);
            w.WriteString("url", OriginUrl);
            w.WriteEndObject();

            // Shared by the three components.
            w.WriteString("state_topic", Node.StateTopic);
            w.WriteNumber("qos", Qos);
            if (AvailabilityTopic is not null)
            {
                w.WriteString("availability_topic", AvailabilityTopic);
                w.WriteString("payload_available", Online);
                w.WriteString("payload_not_available", Offline);
            }

            w.WriteStartObject("cmps");
            Component(w, "temperature", "Temperature", "temperature", "°C");
            Component(w, "humidity", "Humidity", "humidity", "%");
            Component(w, "pressure", "Pressure", "atmospheric_pressure", "hPa");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void Component(Utf8JsonWriter w, string field, string name, string deviceClass, string unit)
    {
        w.WriteStartObject(field);
        w.WriteString("p", "sensor");
        w.WriteString("name", name);
        w.WriteString("device_class", deviceClass);
        w.WriteString("state_class", "measurement");
        w.WriteString("unit_of_measurement", unit);
        w.WriteString("value_template", "{{ value_json." + field + " }}");
        w.WriteString("unique_id", $"ambientmqtt_{Node.Id}_{field}");
        w.WriteNumber("expire_after", ExpireAfterSeconds);
        w.WriteNumber("suggested_display_precision", 1);
        w.WriteEndObject();
    }

    /// <summary>The node the discovery describes.</summary>
    internal sealed record DiscoveryNode(string Id, string Name, string StateTopic);
}
