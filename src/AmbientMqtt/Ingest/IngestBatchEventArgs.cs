namespace AmbientMqtt.Ingest;

/// <summary>
/// A batch was committed and acknowledged.
/// </summary>
public sealed class IngestBatchEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="result">What the batch wrote, row by row.</param>
    /// <param name="rejected">The payloads set aside, with their reasons (decode failures and rows the database refused).</param>
    /// <param name="elapsed">How long the write took.</param>
    public IngestBatchEventArgs(BatchWriteResult result, IReadOnlyList<RejectedPayload> rejected, TimeSpan elapsed)
        : this(result, rejected, elapsed, moreWaiting: false)
    {
    }

    /// <summary>Initializes a new instance.</summary>
    /// <param name="result">What the batch wrote, row by row.</param>
    /// <param name="rejected">The payloads set aside, with their reasons (decode failures and rows the database refused).</param>
    /// <param name="elapsed">How long the write took.</param>
    /// <param name="moreWaiting">Whether more messages were already waiting for the next batch.</param>
    public IngestBatchEventArgs(BatchWriteResult result, IReadOnlyList<RejectedPayload> rejected, TimeSpan elapsed, bool moreWaiting)
    {
        Result = result;
        Rejected = rejected;
        Elapsed = elapsed;
        MoreWaiting = moreWaiting;
    }

    /// <summary>Gets what the batch wrote, row by row.</summary>
    public BatchWriteResult Result { get; }

    /// <summary>Gets the payloads that could not be decoded, with their reasons.</summary>
    public IReadOnlyList<RejectedPayload> Rejected { get; }

    /// <summary>Gets how long the write took.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Gets a value indicating whether more messages were already waiting when this batch was done: the pipeline
    /// is working through a backlog or a burst, rather than keeping up reading by reading.</summary>
    public bool MoreWaiting { get; }
}
