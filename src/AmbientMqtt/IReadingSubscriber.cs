using System.Threading.Channels;

namespace AmbientMqtt;

/// <summary>
/// Receives raw reading payloads from a broker. Each message must be acknowledged with
/// <see cref="ReceivedMessage.AcknowledgeAsync"/> once it is safely stored; until then the broker keeps it
/// and delivers it again after a reconnect or a restart (at-least-once delivery).
/// </summary>
public interface IReadingSubscriber : IAsyncDisposable
{
    /// <summary>
    /// The messages received and not yet taken. Implementations bound the messages in hand (MQTT: Receive Maximum, the
    /// number of unacknowledged messages the broker may send), so a slow consumer holds the broker back instead of
    /// growing memory. It completes after <see cref="StopReceivingAsync"/>.
    /// </summary>
    ChannelReader<ReceivedMessage> Messages { get; }

    /// <summary>
    /// Connects and subscribes, then keeps reconnecting and resubscribing by itself whenever the connection is lost.
    /// </summary>
    /// <param name="cancellationToken">Cancels the first connection attempt.</param>
    /// <returns>A task that completes once the first connection attempt has finished (successfully or not).</returns>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops taking new messages and completes <see cref="Messages"/>. The connection stays open so that the messages
    /// already taken can still be acknowledged; messages the broker sends after this are left unacknowledged and are
    /// delivered again on the next session.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once no more messages will be written to <see cref="Messages"/>.</returns>
    Task StopReceivingAsync(CancellationToken cancellationToken = default);
}
