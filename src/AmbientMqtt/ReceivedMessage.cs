using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// One message as it came from the broker, before it is decoded. Acknowledge it once it is stored (or set aside).
/// </summary>
/// <remarks>Unsealed on purpose: each <see cref="IReadingSubscriber"/> supplies its own acknowledgement.</remarks>
public abstract class ReceivedMessage
{
    /// <summary>Initializes a new message.</summary>
    /// <param name="topic">The topic it was published to.</param>
    /// <param name="payload">The payload bytes as received.</param>
    /// <param name="receivedAt">When it was received.</param>
    protected ReceivedMessage(string topic, ReadOnlyMemory<byte> payload, Instant receivedAt)
        : this(topic, payload, receivedAt, identifier: null)
    {
    }

    /// <summary>Initializes a new message whose topic names its node.</summary>
    /// <param name="topic">The topic it was published to.</param>
    /// <param name="payload">The payload bytes as received.</param>
    /// <param name="receivedAt">When it was received.</param>
    /// <param name="identifier">The node the topic names (the level of <c>{identifier}</c> in a topic template such as
    /// <c>raspi/{identifier}/bme</c>), or <see langword="null"/>.</param>
    protected ReceivedMessage(string topic, ReadOnlyMemory<byte> payload, Instant receivedAt, string? identifier)
    {
        Topic = topic;
        Payload = payload;
        ReceivedAt = receivedAt;
        Identifier = identifier;
    }

    /// <summary>Gets the topic the message was published to.</summary>
    public string Topic { get; }

    /// <summary>Gets the payload bytes as received.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Gets the instant the message was received.</summary>
    public Instant ReceivedAt { get; }

    /// <summary>Gets the node the topic names, or <see langword="null"/> when the topic names none. It is the reading's
    /// identifier: a payload's own <c>identifier</c> that says otherwise is ignored (the topic is what a broker's access
    /// rules tie to the node).</summary>
    public string? Identifier { get; }

    /// <summary>
    /// Tells the broker the message is safely stored, so it is not delivered again. Call it only after the commit, and
    /// for the messages of one subscriber in the order they were taken (MQTT acknowledges in arrival order).
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the acknowledgement has been handed to the connection.</returns>
    /// <remarks>When the connection was lost since the message arrived, the acknowledgement cannot be sent; the broker
    /// then delivers the message again, and the idempotent insert makes that a no-op.</remarks>
    public abstract ValueTask AcknowledgeAsync(CancellationToken cancellationToken = default);
}
