namespace AmbientMqtt.Storage;

/// <summary>One reading of a batch on its way into a table: what will be stored, and what became of it.</summary>
internal struct PendingRow
{
    /// <summary>Wall-clock time in the configured zone, microseconds, without offset (what the <c>timestamp</c> column holds).</summary>
    public DateTime Local;

    /// <summary>The same instant in UTC, microseconds (what the <c>timestamp_utc</c> column holds, and the key rests on).</summary>
    public DateTime Utc;

    /// <summary>The local time with its offset, as <see cref="StoredRow.Timestamp"/> reports it.</summary>
    public DateTimeOffset Stored;

    public string Identifier;
    public double Temperature;
    public double Humidity;
    public double Pressure;

    /// <summary>Why the reading cannot be stored at all (a non-finite value, a time outside the years the table holds),
    /// or <see langword="null"/>; such a row never reaches the table.</summary>
    public string? ClientReason;

    public RowOutcome Outcome;

    /// <summary>Why the row went to the dead-letter table (the client's reason, or the database's).</summary>
    public string? Reason;
}
