using System.Text;
using System.Text.Json;
using AmbientMqtt.HomeAssistant;
using AmbientMqtt.Mqtt;

namespace AmbientMqtt.Tests.HomeAssistant;

/// <summary>
/// The discovery message against Home Assistant's documentation of MQTT discovery (integrations/mqtt, "Device discovery
/// payload") and of the MQTT sensor (integrations/sensor.mqtt), key by key.
/// </summary>
public sealed class HomeAssistantDiscoveryTests
{
    private static readonly string[] Quantities = ["temperature", "humidity", "pressure"];

    [Fact]
    public void ConfigTopic_IsTheDeviceDiscoveryTopic()
    {
        var discovery = Discovery();

        // <discovery_prefix>/<component>/[<node_id>/]<object_id>/config, with component "device" for device-based discovery.
        discovery.ConfigTopic.Should().Be("homeassistant/device/node-7/config");
        discovery.StatusTopic.Should().Be("homeassistant/status", "Home Assistant's birth message goes there by default");
    }

    [Fact]
    public void Payload_RootHoldsTheDeviceOriginComponentsAndSharedOptionsOnly()
    {
        using var json = Parse(Discovery());
        var root = json.RootElement;

        // "dev" and "o" are mandatory at the root; "cmps" holds the components; state_topic, qos and the availability
        // options are among the documented shared options.
        root.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            "dev", "o", "cmps", "state_topic", "qos", "availability_topic", "payload_available", "payload_not_available");
        root.GetProperty("state_topic").GetString().Should().Be("raspi/node-7/bme");
        root.GetProperty("qos").GetInt32().Should().Be(1);
        root.GetProperty("availability_topic").GetString().Should().Be("raspi/node-7/bme/status");
        root.GetProperty("payload_available").GetString().Should().Be("online");
        root.GetProperty("payload_not_available").GetString().Should().Be("offline");
    }

    [Fact]
    public void Payload_DeviceHasIdentifiersNameModelAndVersion()
    {
        using var json = Parse(Discovery());
        var device = json.RootElement.GetProperty("dev");

        device.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("ids", "name", "mdl", "sw");
        device.GetProperty("ids").EnumerateArray().Select(e => e.GetString()).Should().Equal("ambientmqtt_node-7");
        device.GetProperty("name").GetString().Should().Be("node-7");
        device.GetProperty("mdl").GetString().Should().Be("BME280");
        device.GetProperty("sw").GetString().Should().MatchRegex(@"^\d+\.\d+\.\d+$");
    }

    [Fact]
    public void Payload_OriginNamesTheSoftware()
    {
        using var json = Parse(Discovery());
        var origin = json.RootElement.GetProperty("o");

        // origin: name (required), sw_version (sw) and support_url (url).
        origin.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("name", "sw", "url");
        origin.GetProperty("name").GetString().Should().Be("AmbientMqtt");
        origin.GetProperty("sw").GetString().Should().MatchRegex(@"^\d+\.\d+\.\d+$");
        Uri.TryCreate(origin.GetProperty("url").GetString(), UriKind.Absolute, out var url).Should().BeTrue();
        url!.Scheme.Should().Be("https");
    }

    [Theory]
    [InlineData("temperature", "Temperature", "temperature", "°C")]
    [InlineData("humidity", "Humidity", "humidity", "%")]
    [InlineData("pressure", "Pressure", "atmospheric_pressure", "hPa")]
    public void Payload_EachComponentIsASensorOfItsQuantity(string key, string name, string deviceClass, string unit)
    {
        using var json = Parse(Discovery());
        var component = json.RootElement.GetProperty("cmps").GetProperty(key);

        component.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            "p", "name", "device_class", "state_class", "unit_of_measurement", "value_template", "unique_id", "expire_after", "suggested_display_precision");
        component.GetProperty("p").GetString().Should().Be("sensor", "platform (p) is required for each component");
        component.GetProperty("name").GetString().Should().Be(name);
        component.GetProperty("device_class").GetString().Should().Be(deviceClass);
        component.GetProperty("state_class").GetString().Should().Be("measurement");
        component.GetProperty("unit_of_measurement").GetString().Should().Be(unit);
        component.GetProperty("value_template").GetString().Should().Be($"{{{{ value_json.{key} }}}}");
        component.GetProperty("unique_id").GetString().Should().Be($"ambientmqtt_node-7_{key}");
        component.GetProperty("expire_after").GetInt32().Should().Be(15, "three intervals of 5 s");
        component.GetProperty("suggested_display_precision").GetInt32().Should().Be(1);
    }

    [Fact]
    public void Payload_ValueTemplatesNameFieldsOfThePayloadThePublisherSends()
    {
        using var json = Parse(Discovery());
        var payload = AmbientPayload.EncodeToString(new AmbientReading(NodaTime.Instant.FromUnixTimeSeconds(1_700_000_000), 21.5, 40.25, 1001.5, "node-7", 3));
        using var reading = JsonDocument.Parse(payload);

        foreach (var key in Quantities)
        {
            var template = json.RootElement.GetProperty("cmps").GetProperty(key).GetProperty("value_template").GetString()!;
            var field = template.Replace("{{ value_json.", string.Empty, StringComparison.Ordinal).Replace(" }}", string.Empty, StringComparison.Ordinal);
            reading.RootElement.TryGetProperty(field, out var value).Should().BeTrue(field);
            value.ValueKind.Should().Be(JsonValueKind.Number);
        }
    }

    [Fact]
    public void Payload_UniqueIdsDifferBetweenNodes()
    {
        using var seven = Parse(Discovery());
        using var eight = Parse(Discovery(identifier: "node-8"));

        var ids = new[] { seven, eight }
            .SelectMany(j => Quantities.Select(q => j.RootElement.GetProperty("cmps").GetProperty(q).GetProperty("unique_id").GetString()))
            .ToList();
        ids.Should().OnlyHaveUniqueItems().And.HaveCount(6);
    }

    [Fact]
    public void Payload_WithoutAvailability_LeavesTheAvailabilityOptionsOut()
    {
        using var json = Parse(Discovery(availability: false));

        json.RootElement.TryGetProperty("availability_topic", out _).Should().BeFalse();
        json.RootElement.TryGetProperty("payload_available", out _).Should().BeFalse();
    }

    [Fact]
    public void Payload_TasmotaStyleAvailabilityPayloads_AreThePublishersOwn()
    {
        using var json = Parse(Discovery(online: "Online", offline: "Offline"));

        json.RootElement.GetProperty("payload_available").GetString().Should().Be("Online");
        json.RootElement.GetProperty("payload_not_available").GetString().Should().Be("Offline");
    }

    [Theory]
    [InlineData("node-7", "node-7")]
    [InlineData("tochigi_iot_899", "tochigi_iot_899")]
    [InlineData("attic.pi 2", "attic_pi_2")]
    [InlineData("温度計", "___")]
    public void NodeId_KeepsOnlyTheCharactersHomeAssistantAllows(string identifier, string expected)
        => HomeAssistantDiscovery.NodeId(identifier).Should().Be(expected).And.MatchRegex("^[a-zA-Z0-9_-]+$");

    [Theory]
    [InlineData(0.1, 1)]
    [InlineData(5, 15)]
    [InlineData(60, 180)]
    public void ExpireAfter_IsThreeIntervalsInWholeSeconds(double intervalSeconds, int expected)
        => Discovery(interval: TimeSpan.FromSeconds(intervalSeconds)).ExpireAfterSeconds.Should().Be(expected);

    [Fact]
    public void Payload_IsReadableUtf8()
        => Encoding.UTF8.GetString(Discovery().Payload).Should().Contain("\"unit_of_measurement\":\"°C\"");

    private static HomeAssistantDiscovery Discovery(string identifier = "node-7", bool availability = true, string online = "online", string offline = "offline", TimeSpan? interval = null)
        => new(
            new HomeAssistantDiscovery.DiscoveryNode(HomeAssistantDiscovery.NodeId(identifier), identifier, $"raspi/{identifier}/bme"),
            "homeassistant",
            availability ? $"raspi/{identifier}/bme/status" : null,
            online,
            offline,
            interval ?? TimeSpan.FromSeconds(5),
            qos: 1);

    private static JsonDocument Parse(HomeAssistantDiscovery discovery) => JsonDocument.Parse(discovery.Payload);
}
