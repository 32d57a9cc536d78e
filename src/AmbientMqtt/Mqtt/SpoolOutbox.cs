using System.Buffers.Binary;
using System.Globalization;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// The publisher's queue on disk (<c>Publish:SpoolPath</c>): every message is appended to one file and fsynced before
/// <see cref="Add"/> returns, so a kill -9 or a power cut loses none; a message leaves it once the broker has acknowledged
/// it (PUBACK), recorded by a small marker. Bounded in messages (<c>Publish:SpoolMaxReadings</c>): when full, the oldest is
/// dropped and counted.
/// </summary>
/// <remarks>
/// <para>File format (little-endian): a 20-byte header (<c>AMSPOOL1</c>, the next sequence number, CRC-32 of both), then
/// records of <c>kind(1) sequence(8) length(4) payload(length) crc32(4)</c>, the CRC over everything before it in the
/// record. Kind <c>D</c> is a message, numbered with the sequence (the payload's <c>seq</c>, which so survives a
/// restart); kind <c>T</c> says every message numbered up to its sequence is gone (acknowledged, or dropped for room).
/// Messages leave oldest first, so one marker says it.</para>
/// <para>What is fsynced when: each message appended (the reading is on the card before the publisher takes the next);
/// markers are written to the file but not fsynced on their own, they reach the card with the next message's fsync. A
/// marker lost in a power cut means one message is sent again, which the subscriber's idempotent insert absorbs.</para>
/// <para>Once everything is sent the file is emptied in place (header rewritten, file truncated), so it stays small
/// while the broker is there. A torn last record (the process died mid-append) is cut off at start-up with a warning; a
/// damaged record inside the file keeps what came before it, the file is copied aside for inspection and cut there; a file
/// that is not a spool is renamed aside and a new one started. None of these stops the publisher.</para>
/// </remarks>
internal sealed class SpoolOutbox : IOutbox
{
    internal const int HeaderSize = 20;
    internal const int RecordOverhead = 17;
    internal const byte DataKind = (byte)'D';
    internal const byte TrimKind = (byte)'T';

    /// <summary>The largest payload a record may claim; anything bigger is damage, not a message.</summary>
    internal const int MaxPayload = 16 * 1024 * 1024;

    private static readonly byte[] Magic = "AMSPOOL1"u8.ToArray();

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly LinkedList<(long Sequence, byte[] Payload)> _queue = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly Lock _gate = new();
    private readonly FileStream _lock;
    private FileStream _file;
    private long _nextSequence;
    private long _dropped;
    private bool _completed;
    private bool _diskFailed;

    private SpoolOutbox(string path, long capacity, ILogger logger, FileStream lockFile, FileStream file)
    {
        _path = path;
        Capacity = capacity;
        _logger = logger;
        _lock = lockFile;
        _file = file;
    }

    public event Action<long>? Dropped;

    public string Path => _path;

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    public long DroppedCount => Interlocked.Read(ref _dropped);

    public long Capacity { get; }

    /// <summary>Gets how many messages an earlier run left in the file, found when it was opened.</summary>
    public long Recovered { get; private set; }

    /// <summary>Opens (or creates) the spool at <paramref name="path"/> and reads what an earlier run left in it.</summary>
    /// <exception cref="IOException">The file cannot be created, opened or locked (another publisher uses it).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission for the file or its directory.</exception>
    public static SpoolOutbox Open(string path, long capacity, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        path = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        // FileShare.None takes an exclusive lock (flock on Linux): two publishers on one spool would send each other's readings.
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"it is in use by another process (locked: {path}.lock)", ex);
        }

        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
            var spool = new SpoolOutbox(path, capacity, logger, lockFile, file);
            spool.Load();
            return spool;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    public byte[] Add(Func<long?, byte[]> encode, out long? sequence)
    {
        byte[] payload;
        long dropped = 0;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            var number = _nextSequence++;
            sequence = number;
            payload = encode(number);
            if (payload.Length > MaxPayload)
            {
                throw new ArgumentException($"a message of {payload.Length} bytes does not fit the spool (at most {MaxPayload})", nameof(encode));
            }

            if (_queue.Count >= Capacity)
            {
                var oldest = _queue.First!.Value.Sequence;
                _queue.RemoveFirst();
                dropped = Interlocked.Increment(ref _dropped);
                WriteRecord(TrimKind, oldest, [], flushToDisk: false);
            }

            _queue.AddLast((number, payload));
            WriteRecord(DataKind, number, payload, flushToDisk: true);
        }

        _signal.Release();
        if (dropped > 0)
        {
            Dropped?.Invoke(dropped);
        }

        return payload;
    }

    public bool TryPeek(long after, out long id, out byte[] payload)
    {
        lock (_gate)
        {
            for (var node = _queue.First; node is not null; node = node.Next)
            {
                if (node.Value.Sequence > after)
                {
                    (id, payload) = node.Value;
                    return true;
                }
            }

            (id, payload) = (-1, null!);
            return false;
        }
    }

    public void Remove(long id)
    {
        lock (_gate)
        {
            // The message may have been dropped for room meanwhile; then there is nothing more to remove.
            if (_queue.First is not { } first || first.Value.Sequence != id)
            {
                return;
            }

            _queue.RemoveFirst();
            if (_queue.Count == 0)
            {
                Empty();
            }
            else
            {
                WriteRecord(TrimKind, id, [], flushToDisk: false);
            }
        }
    }

    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_queue.Count > 0)
                {
                    return true;
                }

                if (_completed)
                {
                    return false;
                }
            }

            await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
        }

        _signal.Release();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _completed = true;
            _file.Dispose();
            _lock.Dispose();
        }

        _signal.Dispose();
    }

    internal static byte[] Header(long nextSequence)
    {
        var header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), nextSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), Crc32.Compute(header.AsSpan(0, 16)));
        return header;
    }

    internal static byte[] Record(byte kind, long sequence, ReadOnlySpan<byte> payload)
    {
        var record = new byte[RecordOverhead + payload.Length];
        record[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(1), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(9), payload.Length);
        payload.CopyTo(record.AsSpan(13));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(13 + payload.Length), Crc32.Compute(record.AsSpan(0, 13 + payload.Length)));
        return record;
    }

    private static string Stamp() => DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    private void Load()
    {
        var length = _file.Length;
        if (length == 0)
        {
            WriteHeaderAndTruncate(0);
            return;
        }

        var bytes = new byte[length];
        _file.Position = 0;
        _file.ReadExactly(bytes);
        if (length < HeaderSize || !bytes.AsSpan(0, 8).SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)) != Crc32.Compute(bytes.AsSpan(0, 16)))
        {
            SetAsideAndStartOver(length);
            return;
        }

        var next = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        var trimmed = -1L;
        var offset = HeaderSize;
        var pending = new LinkedList<(long Sequence, byte[] Payload)>();
        while (offset < length)
        {
            var problem = ReadRecord(bytes, offset, out var kind, out var sequence, out var payload, out var size);
            if (problem is not null)
            {
                var rest = length - offset;
                var torn = rest < RecordOverhead || problem == "truncated" || bytes.AsSpan(offset).IndexOfAnyExcept((byte)0) < 0;
                if (torn)
                {
                    Log.SpoolTornRecord(_logger, _path, offset, rest);
                }
                else
                {
                    var aside = $"{_path}.damaged-{Stamp()}";
                    File.WriteAllBytes(aside, bytes);
                    Log.SpoolDamaged(_logger, _path, offset, problem, pending.Count, rest, aside);

                    // The records cut off had numbers; no more of them can fit than this, and none is given twice.
                    next += rest / RecordOverhead;
                }

                // Cut there, so that what is appended from now on follows a whole record.
                _file.SetLength(offset);
                _file.Flush(flushToDisk: true);
                break;
            }

            if (kind == DataKind)
            {
                pending.AddLast((sequence, payload));
            }
            else
            {
                trimmed = Math.Max(trimmed, sequence);
                while (pending.First is { } first && first.Value.Sequence <= trimmed)
                {
                    pending.RemoveFirst();
                }
            }

            next = Math.Max(next, sequence + 1);
            offset += size;
        }

        _nextSequence = next;
        while (pending.First is { } first)
        {
            pending.RemoveFirst();
            if (first.Value.Sequence > trimmed)
            {
                _queue.AddLast(first.Value);
            }
        }

        if (_queue.Count > Capacity)
        {
            // Publish:SpoolMaxReadings was lowered since: the oldest beyond the bound go, counted.
            var over = _queue.Count - Capacity;
            long last = -1;
            for (var i = 0; i < over; i++)
            {
                last = _queue.First!.Value.Sequence;
                _queue.RemoveFirst();
            }

            _dropped += over;
            Log.SpoolOverCapacity(_logger, _path, over, Capacity);
            _file.Position = _file.Length;
            WriteRecord(TrimKind, last, [], flushToDisk: true);
        }

        Recovered = _queue.Count;
        if (_queue.Count == 0)
        {
            WriteHeaderAndTruncate(_nextSequence);
        }
        else
        {
            _file.Position = _file.Length;
            Log.SpoolRecovered(_logger, _path, _queue.Count, _queue.First!.Value.Sequence, _queue.Last!.Value.Sequence);
        }
    }

    /// <summary>Why the record at <paramref name="offset"/> is not whole, or <see langword="null"/>.</summary>
    private static string? ReadRecord(byte[] bytes, int offset, out byte kind, out long sequence, out byte[] payload, out int size)
    {
        kind = 0;
        sequence = 0;
        payload = [];
        size = 0;
        var rest = bytes.Length - offset;
        if (rest < RecordOverhead)
        {
            return "truncated";
        }

        kind = bytes[offset];
        if (kind is not DataKind and not TrimKind)
        {
            return $"unknown record kind 0x{kind:X2}";
        }

        sequence = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset + 1));
        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 9));
        if (length < 0 || length > MaxPayload || (kind == TrimKind && length != 0))
        {
            return $"impossible length {length}";
        }

        if (rest < RecordOverhead + length)
        {
            return "truncated";
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 13 + length));
        if (stored != Crc32.Compute(bytes.AsSpan(offset, 13 + length)))
        {
            return "checksum mismatch";
        }

        if (sequence < 0)
        {
            return $"negative sequence {sequence}";
        }

        payload = bytes.AsSpan(offset + 13, length).ToArray();
        size = RecordOverhead + length;
        return null;
    }

    private void SetAsideAndStartOver(long length)
    {
        _file.Dispose();
        var aside = $"{_path}.corrupt-{Stamp()}";
        File.Move(_path, aside);
        Log.SpoolNotASpool(_logger, _path, length, aside);
        _file = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        WriteHeaderAndTruncate(0);
    }

    /// <summary>Everything was sent: the file goes back to its header alone, which keeps the next number.</summary>
    private void Empty()
    {
        if (_diskFailed)
        {
            return;
        }

        try
        {
            WriteHeaderAndTruncate(_nextSequence);
        }
        catch (IOException ex)
        {
            DiskFailed(ex);
        }
    }

    private void WriteHeaderAndTruncate(long nextSequence)
    {
        // The header first (it carries the next number past every record), then the cut: a crash between the two leaves
        // a valid spool whose records are all trimmed or resent once.
        _file.Position = 0;
        _file.Write(Header(nextSequence));
        _file.SetLength(HeaderSize);
        _file.Flush(flushToDisk: true);
        _file.Position = HeaderSize;
    }

    private void WriteRecord(byte kind, long sequence, ReadOnlySpan<byte> payload, bool flushToDisk)
    {
        if (_diskFailed)
        {
            return;
        }

        var start = _file.Position;
        try
        {
            _file.Write(Record(kind, sequence, payload));
            _file.Flush(flushToDisk);
        }
        catch (IOException ex)
        {
            try
            {
                // A half-written record would make every record after it unreadable: cut it off.
                _file.SetLength(start);
                _file.Position = start;
            }
            catch (IOException)
            {
            }

            DiskFailed(ex);
        }
    }

    private void DiskFailed(IOException ex)
    {
        // Disk full or gone: keep the readings in memory (they are still sent) rather than stop taking them.
        _diskFailed = true;
        Log.SpoolWriteFailed(_logger, _path, ex.Message);
    }
}
