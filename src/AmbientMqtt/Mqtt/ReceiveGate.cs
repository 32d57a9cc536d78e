namespace AmbientMqtt.Mqtt;

/// <summary>
/// The bound on what a subscriber holds, in bytes of messages received and not yet acknowledged, over all its
/// connections. Past <c>closeAbove</c> it closes, and each connection's <see cref="GatedStream"/> stops reading its
/// socket, so TCP holds the broker back (whatever the broker does with Receive Maximum); at <c>openBelow</c> it opens.
/// It only ever waits: it never reads, writes or looks at a byte itself.
/// </summary>
internal sealed class ReceiveGate(long closeAbove, long openBelow, TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private long _held;
    private TaskCompletionSource? _closed;
    private long _closedSince;

    /// <summary>Gets the bytes held.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Gets a value indicating whether reading waits.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) is not null;

    /// <summary>Gets how long the gate has been closed, or <see cref="TimeSpan.Zero"/> when open.</summary>
    public TimeSpan ClosedFor
    {
        get
        {
            lock (_lock)
            {
                return _closed is null ? TimeSpan.Zero : timeProvider.GetElapsedTime(_closedSince);
            }
        }
    }

    /// <summary>A message of <paramref name="size"/> bytes is held.</summary>
    public void Hold(long size)
    {
        if (Interlocked.Add(ref _held, size) > closeAbove)
        {
            lock (_lock)
            {
                if (_closed is null && Interlocked.Read(ref _held) > closeAbove)
                {
                    _closedSince = timeProvider.GetTimestamp();
                    Volatile.Write(ref _closed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                }
            }
        }
    }

    /// <summary>A message of <paramref name="size"/> bytes is no longer held (stored, or left to the broker).</summary>
    /// <returns><see langword="true"/> when this opened the gate.</returns>
    public bool Release(long size)
    {
        if (Interlocked.Add(ref _held, -size) > openBelow || Volatile.Read(ref _closed) is null)
        {
            return false;
        }

        TaskCompletionSource? closed;
        lock (_lock)
        {
            closed = _closed;
            if (closed is null || Interlocked.Read(ref _held) > openBelow)
            {
                return false;
            }

            Volatile.Write(ref _closed, null);
        }

        closed.TrySetResult();
        return true;
    }

    /// <summary>Completes once the gate is open.</summary>
    public ValueTask WaitOpenAsync(CancellationToken cancellationToken)
    {
        var closed = Volatile.Read(ref _closed);
        return closed is null ? ValueTask.CompletedTask : new ValueTask(closed.Task.WaitAsync(cancellationToken));
    }
}
