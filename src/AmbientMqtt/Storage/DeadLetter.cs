namespace AmbientMqtt.Storage;

/// <summary>A row of the dead-letter table, before truncation to the columns' sizes.</summary>
/// <param name="ReceivedAt">Wall-clock time in the configured zone.</param>
/// <param name="Topic">The topic, or empty for a reading the database refused.</param>
/// <param name="Payload">The whole payload (the store keeps a prefix).</param>
/// <param name="Reason">Why it was set aside.</param>
internal sealed record DeadLetter(DateTime ReceivedAt, string Topic, ReadOnlyMemory<byte> Payload, string Reason);
