namespace AmbientMqtt.Mqtt;

/// <summary>
/// Settings of <see cref="MqttReadingSubscriber"/>: the broker (<see cref="MqttConnectionOptions"/>), and how its
/// persistent session and flow control work. Bound to the <c>Mqtt</c> configuration section.
/// </summary>
public sealed class MqttSubscriberOptions : MqttConnectionOptions
{
    /// <summary>Gets or sets how long, in absence, the broker keeps the subscriber's session (its subscription and the
    /// messages not yet acknowledged).</summary>
    /// <value>The default value is 7 days.</value>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Gets or sets the MQTT 5 Receive Maximum of each connection: how many messages the broker may send
    /// before the subscriber acknowledges. Nothing is acknowledged before it is stored, so this holds the broker back
    /// while the database is slow or away.</summary>
    /// <value>The default value is <c>2000</c>.</value>
    public int ReceiveMaximum { get; set; } = 2000;

    /// <summary>
    /// Gets or sets the most bytes of messages received and not yet acknowledged, over all connections: the bound on
    /// memory that holds whatever the broker does (mosquitto 2.0.11, in Debian 12 and Raspberry Pi OS Bookworm, stops
    /// honouring Receive Maximum once acknowledgements flow). Past it the subscriber disconnects, keeping its session
    /// (the broker keeps the messages), and connects again once what it holds has been stored down to half of it.
    /// </summary>
    /// <value>The default value is 8 MiB, <see cref="MaxPacketSize"/>'s (each message counts its payload, its topic and
    /// about 512 bytes of bookkeeping): about 11,000 readings, many batches of 500; with 16 MiB MqttInsert peaked 13 MB
    /// higher while it caught up after an outage (benchmarks/README.md: footprint).</value>
    public long MaxUnacknowledgedBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the largest MQTT packet the subscriber accepts (MQTT 5 Maximum Packet Size). A broker does not send
    /// a larger message to this client: MQTT 5 has it discard the message as if it had been delivered (mosquitto logs
    /// it). A message below this size but above <c>Ingest:MaxPayloadBytes</c> reaches the dead-letter table with its
    /// size and a prefix.
    /// </summary>
    /// <value>The default value is 8 MiB (a reading is about 200 bytes; what is bigger than <c>Ingest:MaxPayloadBytes</c>
    /// and fits is set aside with its reason).</value>
    public int MaxPacketSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Gets or sets how many connections the subscriber opens. With more than one, it subscribes through the
    /// shared subscription <c>$share/&lt;group&gt;/&lt;Topic&gt;</c> (group <see cref="SharedGroup"/>, or the client id)
    /// and the broker spreads messages over them; their client ids are <c>&lt;ClientId&gt;-1</c>, <c>-2</c>, ….</summary>
    /// <value>The default value is <c>1</c>.</value>
    public int Connections { get; set; } = 1;

    /// <summary>
    /// Gets or sets the shared subscription group: subscribe to <c>$share/&lt;SharedGroup&gt;/&lt;Topic&gt;</c>, so that
    /// several programs (each with its own <see cref="MqttConnectionOptions.ClientId"/> and persistent session) share the
    /// messages of one topic. With mosquitto, a member that dies keeps receiving its share, which waits for it to come
    /// back (the README's "More than one machine").
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no sharing across programs.</value>
    public string? SharedGroup { get; set; }
}
