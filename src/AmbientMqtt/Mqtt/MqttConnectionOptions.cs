namespace AmbientMqtt.Mqtt;

/// <summary>
/// How to reach the MQTT broker: what <see cref="MqttPublisherOptions"/> and <see cref="MqttSubscriberOptions"/> share.
/// Bound to the <c>Mqtt</c> configuration section (<c>Mqtt:Host</c>, <c>Mqtt:Port</c>, …); the defaults are the
/// tutorial's.
/// </summary>
public abstract class MqttConnectionOptions
{
    /// <summary>The placeholder of <see cref="Topic"/> and <see cref="AvailabilityTopic"/> that names the node.</summary>
    public const string IdentifierPlaceholder = "{identifier}";

    /// <summary>Gets or sets the broker's host name or address.</summary>
    /// <value>The default value is <c>localhost</c>.</value>
    public string Host { get; set; } = "localhost";

    /// <summary>Gets or sets the broker's TCP port.</summary>
    /// <value>The default value is <c>1883</c> (8883 is the usual port with <see cref="UseTls"/>).</value>
    public int Port { get; set; } = 1883;

    /// <summary>
    /// Gets or sets the topic readings are published to and subscribed from. It may hold <c>{identifier}</c> as a whole
    /// level (<c>raspi/{identifier}/bme</c>): a publisher puts its node's identifier there, a subscriber subscribes with
    /// <c>+</c> in its place and takes a reading's node from that level when the payload names none.
    /// </summary>
    /// <value>The default value is <c>raspi/bme</c>, the tutorial's.</value>
    public string Topic { get; set; } = "raspi/bme";

    /// <summary>
    /// Gets or sets the topic of each node's availability (ESPHome's convention): <c>online</c> while its publisher is
    /// connected, <c>offline</c> (the MQTT will, retained) when it is not. It may hold <c>{identifier}</c> as
    /// <see cref="Topic"/> does; empty turns availability off.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="Topic"/> followed by <c>/status</c>
    /// (<c>raspi/{identifier}/bme/status</c>).</value>
    public string? AvailabilityTopic { get; set; }

    /// <summary>Gets or sets the availability payload while connected.</summary>
    /// <value>The default value is <c>online</c> (ESPHome's; Tasmota says <c>Online</c>).</value>
    public string AvailabilityOnline { get; set; } = "online";

    /// <summary>Gets or sets the availability payload of the will and of a clean stop.</summary>
    /// <value>The default value is <c>offline</c> (ESPHome's; Tasmota says <c>Offline</c>).</value>
    public string AvailabilityOffline { get; set; } = "offline";

    /// <summary>Gets or sets the MQTT client id. A subscriber's id names its persistent session on the broker, so it
    /// must stay the same across restarts, and two running programs must never share one.</summary>
    /// <value>The default value is <see langword="null"/>: <c>&lt;program&gt;-&lt;host name&gt;</c>, stable per program and host.</value>
    public string? ClientId { get; set; }

    /// <summary>Gets or sets the user name, when the broker asks for one.</summary>
    /// <value>The default value is <see langword="null"/> (anonymous, as the tutorial's broker).</value>
    public string? Username { get; set; }

    /// <summary>Gets or sets the password that goes with <see cref="Username"/>. It never appears in a log line.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Password { get; set; }

    /// <summary>Gets or sets a value indicating whether to connect with TLS, checking the broker's certificate against
    /// the system's trusted roots, or against <see cref="CaFile"/>.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool UseTls { get; set; }

    /// <summary>Gets or sets the PEM file of the certificate authority that signed the broker's certificate, for a
    /// broker with its own CA (as mosquitto's TLS set-up makes); with <see cref="UseTls"/> only.</summary>
    /// <value>The default value is <see langword="null"/>: the system's trusted roots.</value>
    public string? CaFile { get; set; }

    /// <summary>Gets or sets the PEM file of this client's certificate, for a broker that requires one
    /// (mosquitto's <c>require_certificate true</c>); with <see cref="ClientKey"/> and <see cref="UseTls"/>.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? ClientCertificate { get; set; }

    /// <summary>Gets or sets the PEM file of the private key of <see cref="ClientCertificate"/> (unencrypted).</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? ClientKey { get; set; }

    /// <summary>Gets or sets the MQTT quality of service: 0 (at most once), 1 (at least once) or 2 (exactly once).</summary>
    /// <value>The default value is <c>1</c>: nothing is lost, and a redelivery is absorbed by the idempotent insert.</value>
    public int Qos { get; set; } = 1;

    /// <summary>Gets or sets the keep-alive period: how soon a silent, dead connection is noticed (and how soon the
    /// broker sends a dead publisher's will: within 1.5 times this).</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long one connection attempt may take.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the first wait before reconnecting; it doubles after each failed attempt.</summary>
    /// <value>The default value is 0.5 seconds.</value>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the longest wait between reconnection attempts.</summary>
    /// <value>The default value is 15 seconds.</value>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the socket send and receive buffer size in bytes. MQTTnet's 8 KiB default pins the TCP
    /// window and can stall a large backlog.</summary>
    /// <value>The default value is 256 KiB.</value>
    public int SocketBufferSize { get; set; } = 256 * 1024;
}
