namespace AmbientMqtt.Mqtt;

/// <summary>
/// Where a publisher keeps messages until the broker has accepted them: in memory (<see cref="MemoryOutbox"/>) or in a
/// spool on disk that survives a restart. One sender takes them in order: <see cref="TryPeek"/> the next, publish it,
/// <see cref="Remove"/> it once the broker accepted it; a message peeked and not removed is peeked again.
/// </summary>
internal interface IOutbox : IDisposable
{
    /// <summary>Raised with the number dropped so far, each time the oldest message is dropped for room.</summary>
    event Action<long>? Dropped;

    /// <summary>Gets the messages kept, the one being sent included.</summary>
    long Count { get; }

    /// <summary>Gets how many messages were dropped for room.</summary>
    long DroppedCount { get; }

    /// <summary>Gets the most messages kept.</summary>
    long Capacity { get; }

    /// <summary>Adds a message, dropping the oldest when full. <paramref name="encode"/> gets the number the outbox gives
    /// the message (a spool numbers them, and the number survives a restart), or <see langword="null"/>.</summary>
    /// <returns>The payload as kept.</returns>
    byte[] Add(Func<long?, byte[]> encode, out long? sequence);

    /// <summary>The next message to send, the same one until it is removed.</summary>
    bool TryPeek(out byte[] payload);

    /// <summary>The message last peeked was accepted by the broker.</summary>
    void Remove();

    /// <summary>Waits until there is a message; <see langword="false"/> once completed and empty.</summary>
    ValueTask<bool> WaitAsync(CancellationToken cancellationToken);

    /// <summary>No more messages will be added.</summary>
    void Complete();
}
