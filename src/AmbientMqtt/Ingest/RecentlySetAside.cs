using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AmbientMqtt.Ingest;

/// <summary>
/// The last few thousand payloads set aside, by fingerprint (SHA-256 of topic and payload), so that one the broker
/// delivers again after a lost connection (<see cref="ReceivedMessage.IsRedelivery"/>) is counted as a duplicate
/// instead of filling the dead-letter table twice. A readings row needs none of this: its unique key does the same.
/// </summary>
/// <remarks>Only a message flagged as a redelivery is looked up, so the same bad payload sent twice by a node is set
/// aside twice. What this process set aside before a restart is not remembered: a payload set aside just before a crash
/// and delivered again after it is set aside again (the dead-letter table is for a person to read, not a count).</remarks>
internal sealed class RecentlySetAside(int capacity = 4096)
{
    private readonly HashSet<UInt128> _known = [];
    private readonly Queue<UInt128> _order = new();

    public static UInt128 Fingerprint(ReceivedMessage message)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(message.Topic));
        hash.AppendData([0]);
        hash.AppendData(message.Payload.Span);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    public bool Contains(UInt128 fingerprint) => _known.Contains(fingerprint);

    /// <summary>Remembers a payload once its dead letter has committed; forgets the oldest beyond the capacity.</summary>
    public void Add(UInt128 fingerprint)
    {
        if (!_known.Add(fingerprint))
        {
            return;
        }

        _order.Enqueue(fingerprint);
        if (_order.Count > capacity)
        {
            _known.Remove(_order.Dequeue());
        }
    }
}
