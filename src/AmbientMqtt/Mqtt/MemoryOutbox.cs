namespace AmbientMqtt.Mqtt;

/// <summary>The publisher's queue in memory: bounded, oldest dropped first. What it holds is lost with the process.</summary>
internal sealed class MemoryOutbox(long capacity) : IOutbox
{
    private readonly Queue<byte[]> _queue = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly Lock _gate = new();
    private byte[]? _current;
    private long _dropped;
    private bool _completed;

    public event Action<long>? Dropped;

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count + (_current is null ? 0 : 1);
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
            if (_queue.Count + (_current is null ? 0 : 1) >= capacity && _queue.Count > 0)
            {
                _queue.Dequeue();
                dropped = Interlocked.Increment(ref _dropped);
            }

            _queue.Enqueue(payload);
        }

        _signal.Release();
        if (dropped > 0)
        {
            Dropped?.Invoke(dropped);
        }

        return payload;
    }

    public bool TryPeek(out byte[] payload)
    {
        lock (_gate)
        {
            if (_current is null && _queue.Count > 0)
            {
                _current = _queue.Dequeue();
            }

            payload = _current!;
            return _current is not null;
        }
    }

    public void Remove()
    {
        lock (_gate)
        {
            _current = null;
        }
    }

    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_current is not null || _queue.Count > 0)
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
