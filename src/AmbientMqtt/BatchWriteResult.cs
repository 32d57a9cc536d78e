namespace AmbientMqtt;

/// <summary>
/// What one committed batch wrote.
/// </summary>
/// <param name="Inserted">Rows newly inserted.</param>
/// <param name="Duplicates">Readings that were already stored (redeliveries), skipped.</param>
/// <param name="Rejected">Payloads written to the dead-letter table, including readings the database refused.</param>
/// <param name="Rows">Per reading of the batch, in order: the row as stored (zone-converted, rounded) and whether it was new.</param>
public sealed record BatchWriteResult(int Inserted, int Duplicates, int Rejected, IReadOnlyList<StoredRow> Rows);
