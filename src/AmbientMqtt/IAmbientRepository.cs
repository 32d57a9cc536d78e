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
}
