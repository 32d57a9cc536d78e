namespace AmbientMqtt.Mqtt;

/// <summary>
/// Settings of <see cref="MqttReadingPublisher"/>: the broker (<see cref="MqttConnectionOptions"/>), the node it speaks
/// for, and what it keeps while the broker is away. Bound to the <c>Mqtt</c> configuration section, and
/// <see cref="Identifier"/>, <see cref="SpoolPath"/> and <see cref="SpoolMaxReadings"/> to <c>Publish:Identifier</c>,
/// <c>Publish:SpoolPath</c> and <c>Publish:SpoolMaxReadings</c>.
/// </summary>
public sealed class MqttPublisherOptions : MqttConnectionOptions
{
    /// <summary>Gets or sets the node's identifier: what <c>{identifier}</c> in <see cref="MqttConnectionOptions.Topic"/>
    /// and <see cref="MqttConnectionOptions.AvailabilityTopic"/> becomes. Required when a topic holds the placeholder.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Identifier { get; set; }

    /// <summary>Gets or sets how many messages are kept in memory while the broker is unreachable; when full, the
    /// oldest is dropped (and counted in the log). With a spool (<c>Publish:SpoolPath</c>) the spool's bound applies
    /// instead.</summary>
    /// <value>The default value is <c>100000</c> (almost six days of readings at one every 5 seconds).</value>
    public int QueueCapacity { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the file of the spool: every message is appended there (and fsynced) before it is sent, and leaves it
    /// once the broker has acknowledged it, so readings taken while the broker is unreachable survive a restart, a kill -9
    /// or a power cut. The directory is created when missing. Needs <c>Mqtt:Qos</c> 1 or 2.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no spool, messages wait in memory (<see cref="QueueCapacity"/>)
    /// and are lost with the process.</value>
    public string? SpoolPath { get; set; }

    /// <summary>Gets or sets how many messages the spool keeps; when full, the oldest is dropped (and counted in the
    /// log).</summary>
    /// <value>The default value is <c>100000</c> (almost six days of readings at one every 5 seconds, about 20 MB of file).</value>
    public int SpoolMaxReadings { get; set; } = 100_000;
}
