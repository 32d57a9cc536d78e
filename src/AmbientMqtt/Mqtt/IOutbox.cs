namespace AmbientMqtt.Mqtt;

/// <summary>
/// Where a publisher keeps messages until the broker has accepted them: in memory (<see cref="MemoryOutbox"/>) or in a
/// spool on disk that survives a restart (<see cref="SpoolOutbox"/>). Every message has a number, one up for each; one
/// sender takes them in order with <see cref="TryPeek"/> (several may be in flight at once) and <see cref="Remove"/>s
/// each once the broker accepted it, oldest first. A message not removed stays, and is peeked again after a restart of
/// the sender's cursor (a reconnect).
/// </summary>
internal interface IOutbox : IDisposable
{
    /// <summary>Raised with the number dropped so far, each time the oldest message is dropped for room.</summary>
    event Action<long>? Dropped;

    /// <summary>Gets the messages kept, those in flight included.</summary>
    long Count { get; }

    /// <summary>Gets how many messages were dropped for room.</summary>
    long DroppedCount { get; }

    /// <summary>Gets the most messages kept.</summary>
    long Capacity { get; }

    /// <summary>Adds a message, dropping the oldest when full. <paramref name="encode"/> gets the number the outbox gives
    /// the message when it is one the payload should carry (a spool's, which survives a restart), or <see langword="null"/>.</summary>
    /// <returns>The payload as kept.</returns>
    byte[] Add(Func<long?, byte[]> encode, out long? sequence);

    /// <summary>The oldest message numbered above <paramref name="after"/> (-1 for the oldest of all).</summary>
    bool TryPeek(long after, out long id, out byte[] payload);

    /// <summary>Message <paramref name="id"/> was accepted by the broker: it goes, if it is still the oldest (it may have
    /// been dropped for room meanwhile).</summary>
    void Remove(long id);

    /// <summary>Waits until there is a message; <see langword="false"/> once completed and empty.</summary>
    ValueTask<bool> WaitAsync(CancellationToken cancellationToken);

    /// <summary>No more messages will be added.</summary>
    void Complete();
}
