namespace AmbientMqtt;

/// <summary>
/// Sends readings to subscribers. Implementations keep readings that cannot be sent right now
/// (broker unreachable) in a bounded queue and send them, oldest first, once they can.
/// </summary>
public interface IReadingPublisher : IAsyncDisposable
{
    /// <summary>
    /// Starts the publisher: it connects, and keeps reconnecting by itself whenever the connection is lost.
    /// Returns once the first connection attempt has finished, whether or not it succeeded.
    /// </summary>
    /// <param name="cancellationToken">Cancels the first connection attempt.</param>
    /// <returns>A task that completes when the first attempt has finished.</returns>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues <paramref name="reading"/> for delivery and returns; it is sent as soon as the connection allows.
    /// </summary>
    /// <param name="reading">The reading to send.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The reading as it is sent: with the publisher's node identifier when it had none, and numbered
    /// (<see cref="AmbientReading.Sequence"/>) when the publisher numbers its readings.</returns>
    ValueTask<AmbientReading> PublishAsync(AmbientReading reading, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until every queued reading has been accepted by the broker, or until <paramref name="timeout"/> passes.
    /// </summary>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when the queue is empty; <see langword="false"/> when readings are still waiting.</returns>
    Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default);
}
