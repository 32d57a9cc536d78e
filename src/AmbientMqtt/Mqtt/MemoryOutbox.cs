namespace AmbientMqtt.Mqtt;

/// <summary>The publisher's queue in memory: bounded, oldest dropped first. What it holds is lost with the process.</summary>
internal sealed class MemoryOutbox(long capacity) : IOutbox
{
    private readonly LinkedList<(long Id, byte[] Payload)> _queue = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly Lock _gate = new();
    private long _nextId;
    private long _dropped;
    private bool _completed;

    public event Action<long>? Dropped;

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

    public long Capacity => capacity;

    public byte[] Add(Func<long?, byte[]> encode, out long? sequence)
    {
        sequence = null;
        var payload = encode(null);
        long dropped = 0;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            if (_queue.Count >= capacity)
            {
                _queue.RemoveFirst();
                dropped = Interlocked.Increment(ref _dropped);
            }

            _queue.AddLast((_nextId++, payload));
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
                if (node.Value.Id > after)
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
            if (_queue.First is { } first && first.Value.Id == id)
            {
                _queue.RemoveFirst();
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

    public void Dispose() => _signal.Dispose();
}
