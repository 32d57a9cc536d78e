namespace AmbientMqtt.Storage;

/// <summary>
/// A repository that can write a batch with blocking I/O, for a pipeline that runs on a thread of its own: one thread
/// that waits in the socket costs less than the hops of the asynchronous path, thousands of times a second.
/// </summary>
internal interface ISynchronousBatchWriter
{
    /// <inheritdoc cref="IAmbientRepository.WriteBatchAsync"/>
    BatchWriteResult WriteBatch(IReadOnlyList<AmbientReading> readings, IReadOnlyList<RejectedPayload> rejected, CancellationToken cancellationToken);

    /// <summary>Opens the writer's connection ahead of the first batch (as the tutorial connects once, at start), so
    /// the first readings do not wait for it. A failure is left for the first batch to meet and report.</summary>
    void OpenWriter();
}
