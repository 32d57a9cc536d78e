namespace AmbientMqtt;

/// <summary>
/// Stores readings, each exactly once, and sets aside payloads that cannot become a row.
/// </summary>
public interface IAmbientRepository
{
    /// <summary>
    /// Creates the table and the dead-letter table when they are missing, and checks what is there.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is ready.</returns>
    Task EnsureSchemaAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a batch in one transaction: every reading becomes a row unless a row with the same identifier and
    /// timestamp is already there (a redelivery), and every rejected payload goes to the dead-letter table.
    /// A reading the database refuses on its own (a value out of range, say) is moved to the dead-letter table with the
    /// server's reason, so the rest of the batch still lands.
    /// </summary>
    /// <param name="readings">The readings to store; a reading without identifier gets the configured one.</param>
    /// <param name="rejected">Payloads that could not be decoded, with their reasons.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What was written once the transaction has committed.</returns>
    /// <exception cref="AmbientStorageException">The database could not be reached or refused the batch as a whole;
    /// nothing of the batch was committed, and it can be retried.</exception>
    Task<BatchWriteResult> WriteBatchAsync(
        IReadOnlyList<AmbientReading> readings,
        IReadOnlyList<RejectedPayload> rejected,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the publisher's number (<see cref="AmbientReading.Sequence"/>) of the newest stored reading of a node, so that
    /// a pipeline that starts again still sees the readings lost while it was away. A repository that does not keep the
    /// numbers returns <see langword="null"/>, and gaps are then found within one run only.
    /// </summary>
    /// <param name="identifier">The node.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number, or <see langword="null"/> when the node has no numbered reading stored.</returns>
    /// <exception cref="AmbientStorageException">The database could not be reached.</exception>
    Task<long?> LatestSequenceAsync(string identifier, CancellationToken cancellationToken = default) => Task.FromResult<long?>(null);
}
