using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// A payload that could not become a row, with the reason, on its way to the dead-letter table.
/// </summary>
/// <param name="ReceivedAt">When the payload was received.</param>
/// <param name="Topic">The topic it came on.</param>
/// <param name="Payload">The raw payload bytes (the store keeps a bounded prefix).</param>
/// <param name="Reason">Why it was rejected, naming the field and the problem.</param>
public sealed record RejectedPayload(Instant ReceivedAt, string Topic, ReadOnlyMemory<byte> Payload, string Reason);
