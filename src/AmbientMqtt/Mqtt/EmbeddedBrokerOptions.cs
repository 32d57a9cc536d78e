namespace AmbientMqtt.Mqtt;

/// <summary>
/// Settings of <see cref="EmbeddedBroker"/>.
/// </summary>
public sealed class EmbeddedBrokerOptions
{
    /// <summary>Gets or sets the TCP port on 127.0.0.1 to listen on; 0 lets the system pick a free one
    /// (<see cref="EmbeddedBroker.Port"/> then tells which).</summary>
    /// <value>The default value is <c>1883</c>, the MQTT port, so that programs with default settings find the broker.</value>
    public int Port { get; set; } = 1883;

    /// <summary>
    /// Gets or sets how many messages the broker holds for one subscriber that has not taken them yet: a subscriber that
    /// is away (its persistent session keeps collecting) or that reads slower than readings come. Beyond that, MQTTnet
    /// drops the oldest; its own default is 1000, which a subscriber away for a while would exceed, losing readings.
    /// </summary>
    /// <value>The default value is <c>100000</c>: more than five days of readings at one every five seconds.</value>
    public int MaxPendingMessagesPerClient { get; set; } = 100_000;
}
