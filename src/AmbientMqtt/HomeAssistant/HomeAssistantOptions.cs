namespace AmbientMqtt.HomeAssistant;

/// <summary>
/// Home Assistant MQTT discovery: with <see cref="Enabled"/>, the publisher announces its node as one Home Assistant
/// device with three sensors (temperature, humidity, atmospheric pressure), so that it appears in Home Assistant without
/// any YAML. Bound to the <c>HomeAssistant</c> configuration section.
/// </summary>
public sealed class HomeAssistantOptions
{
    /// <summary>Gets or sets a value indicating whether to publish the discovery message.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the discovery prefix Home Assistant's MQTT integration listens on (its "Discovery prefix"
    /// option); it also announces itself on <c>&lt;prefix&gt;/status</c>.</summary>
    /// <value>The default value is <c>homeassistant</c>, Home Assistant's own default.</value>
    public string DiscoveryPrefix { get; set; } = "homeassistant";
}
