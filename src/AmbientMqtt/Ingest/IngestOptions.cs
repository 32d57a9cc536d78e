namespace AmbientMqtt.Ingest;

/// <summary>
/// How the <see cref="IngestPipeline"/> batches and retries. Bound to the <c>Ingest</c> configuration section.
/// </summary>
public sealed class IngestOptions
{
    /// <summary>Gets or sets the most readings written in one transaction. A lone reading is written at once; batches
    /// only grow when readings arrive faster than the database commits.</summary>
    /// <value>The default value is <c>500</c>: one statement, one round trip to MariaDB.</value>
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>Gets or sets the largest payload taken as a reading; a larger one is set aside as rejected.</summary>
    /// <value>The default value is 65536 bytes (a reading is about 150).</value>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>Gets or sets the first wait before retrying a batch the database could not take; it doubles up to
    /// <see cref="MaxRetryDelay"/>.</summary>
    /// <value>The default value is 0.5 seconds.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the longest wait between retries of a batch.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long, once asked to stop, the pipeline keeps trying to store what it holds while the
    /// database is unreachable. What is still unstored then stays unacknowledged and is delivered again at the next start.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long a write may go unanswered before a line says so (a hung or overloaded database
    /// otherwise stays silent until the driver's command timeout, 30 seconds by default).</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan SlowWriteWarning { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long a reading a node numbered (<c>seq</c>) may be late before it is reported missing:
    /// readings can arrive out of order after a reconnect, or while a publisher sends its spool.</summary>
    /// <value>The default value is 1 minute.</value>
    public TimeSpan ReorderWindow { get; set; } = TimeSpan.FromMinutes(1);
}
