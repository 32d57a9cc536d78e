namespace AmbientMqtt;

/// <summary>What happened to one reading of a batch.</summary>
public enum RowOutcome
{
    /// <summary>A new row was inserted.</summary>
    Inserted,

    /// <summary>A row with the same identifier and timestamp was already stored; nothing changed.</summary>
    Duplicate,

    /// <summary>The database refused the row; it went to the dead-letter table.</summary>
    Rejected,
}
