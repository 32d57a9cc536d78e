namespace AmbientMqtt.Mqtt;

/// <summary>
/// How to reach the MQTT broker and what to do there. Bound to the <c>Mqtt</c> configuration section
/// (<c>Mqtt:Host</c>, <c>Mqtt:Port</c>, …); the defaults are the tutorial's.
/// </summary>
public sealed class MqttOptions
{
    /// <summary>Gets or sets the broker's host name or address.</summary>
    /// <value>The default value is <c>localhost</c>.</value>
    public string Host { get; set; } = "localhost";

    /// <summary>Gets or sets the broker's TCP port.</summary>
    /// <value>The default value is <c>1883</c> (use 8883 with <see cref="UseTls"/>).</value>
    public int Port { get; set; } = 1883;

    /// <summary>Gets or sets the topic readings are published to and subscribed from.</summary>
    /// <value>The default value is <c>raspi/bme</c>.</value>
    public string Topic { get; set; } = "raspi/bme";

    /// <summary>Gets or sets the MQTT client id. A subscriber's id names its persistent session on the broker, so it
    /// must stay the same across restarts and must not be shared by two running programs.</summary>
    /// <value>The default value is <see langword="null"/>: <c>&lt;program&gt;-&lt;host name&gt;</c>, stable per program and host.</value>
    public string? ClientId { get; set; }

    /// <summary>Gets or sets the user name, when the broker asks for one.</summary>
    /// <value>The default value is <see langword="null"/> (anonymous, as the tutorial's broker).</value>
    public string? Username { get; set; }

    /// <summary>Gets or sets the password that goes with <see cref="Username"/>. It never appears in a log line.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Password { get; set; }

    /// <summary>Gets or sets a value indicating whether to connect with TLS, checking the broker's certificate against
    /// the system's trusted roots.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool UseTls { get; set; }

    /// <summary>Gets or sets the PEM file of the certificate authority that signed the broker's certificate, for a
    /// broker with its own CA (as mosquitto's TLS set-up makes); with <see cref="UseTls"/> only. When empty the broker's
    /// certificate is checked against the system's trusted roots.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? CaFile { get; set; }

    /// <summary>Gets or sets the MQTT quality of service: 0 (at most once), 1 (at least once) or 2 (exactly once).</summary>
    /// <value>The default value is <c>1</c>: nothing is lost, a redelivery is absorbed by the idempotent insert.</value>
    public int Qos { get; set; } = 1;

    /// <summary>Gets or sets the keep-alive period: how soon a silent, dead connection is noticed.</summary>
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

    /// <summary>Gets or sets how many messages the publisher keeps while the broker is unreachable; when full, the
    /// oldest is dropped (and counted in the log).</summary>
    /// <value>The default value is <c>100000</c> (almost six days of readings at one every 5 seconds).</value>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>Gets or sets how long, in seconds of absence, the broker keeps the subscriber's session (its
    /// subscription and the messages not yet acknowledged).</summary>
    /// <value>The default value is 7 days.</value>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Gets or sets the MQTT 5 Receive Maximum of each subscriber connection: how many messages the broker may
    /// send before the subscriber acknowledges. It bounds the memory in use and keeps the broker from flooding a slow
    /// database.</summary>
    /// <value>The default value is <c>2000</c>.</value>
    public int ReceiveMaximum { get; set; } = 2000;

    /// <summary>Gets or sets how many connections the subscriber opens. With more than one, it subscribes through the
    /// shared subscription <c>$share/&lt;ClientId&gt;/&lt;Topic&gt;</c> and the broker spreads messages over them.</summary>
    /// <value>The default value is <c>1</c>.</value>
    public int Connections { get; set; } = 1;

    /// <summary>Gets or sets the socket send and receive buffer size in bytes. MQTTnet's 8 KiB default pins the TCP
    /// window and can stall a large backlog on loopback.</summary>
    /// <value>The default value is 1 MiB.</value>
    public int SocketBufferSize { get; set; } = 1 << 20;

    /// <summary>Checks the settings; each problem names its configuration key, for instance
    /// <c>Mqtt:Port: must be between 1 and 65535 (got 0)</c>.</summary>
    /// <param name="section">The configuration section the options were bound from, used in the messages.</param>
    /// <returns>The problems found; empty when the settings are usable.</returns>
    public IReadOnlyList<string> Validate(string section = "Mqtt")
    {
        var errors = new List<string>();
        void Check(bool ok, string key, string problem)
        {
            if (!ok)
            {
                errors.Add($"{section}:{key}: {problem}");
            }
        }

        Check(!string.IsNullOrWhiteSpace(Host), nameof(Host), "is empty; set the broker's host name or address");
        Check(Port is >= 1 and <= 65535, nameof(Port), $"must be between 1 and 65535 (got {Port})");
        Check(!string.IsNullOrWhiteSpace(Topic), nameof(Topic), "is empty");
        Check(string.IsNullOrEmpty(CaFile) || UseTls, nameof(CaFile), $"is set but {section}:UseTls is not true");
        Check(string.IsNullOrEmpty(CaFile) || File.Exists(CaFile), nameof(CaFile), $"no such file '{CaFile}'");
        Check(Qos is >= 0 and <= 2, nameof(Qos), $"must be 0, 1 or 2 (got {Qos})");
        Check(ClientId is null || (ClientId.Length is > 0 and <= 200 && !ClientId.Any(char.IsWhiteSpace)),
            nameof(ClientId), "must be 1 to 200 characters without spaces");
        Check(Password is null || Username is not null, nameof(Password), $"is set but {section}:Username is not");
        Check(KeepAlive >= TimeSpan.Zero && KeepAlive <= TimeSpan.FromSeconds(ushort.MaxValue), nameof(KeepAlive), "must be between 00:00:00 and 18:12:15");
        Check(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        Check(ReconnectDelay > TimeSpan.Zero, nameof(ReconnectDelay), "must be positive");
        Check(MaxReconnectDelay >= ReconnectDelay, nameof(MaxReconnectDelay), $"must not be shorter than {section}:ReconnectDelay");
        Check(QueueCapacity >= 1, nameof(QueueCapacity), $"must be at least 1 (got {QueueCapacity})");
        Check(SessionExpiry >= TimeSpan.FromMinutes(1) && SessionExpiry.TotalSeconds <= uint.MaxValue, nameof(SessionExpiry), "must be at least 00:01:00 so a restart does not lose the session");
        Check(ReceiveMaximum is >= 1 and <= 65535, nameof(ReceiveMaximum), $"must be between 1 and 65535 (got {ReceiveMaximum})");
        Check(Connections is >= 1 and <= 64, nameof(Connections), $"must be between 1 and 64 (got {Connections})");
        Check(SocketBufferSize >= 8192, nameof(SocketBufferSize), $"must be at least 8192 (got {SocketBufferSize})");
        return errors;
    }
}
