namespace AmbientMqtt.Ingest;

/// <summary>
/// Wakes a thread that waits for messages, directly from the thread that delivers them: no continuation is queued to
/// the thread pool, and a deliverer finds out with one volatile read that nobody waits.
/// </summary>
internal sealed class ArrivalSignal : IDisposable
{
    private readonly ManualResetEventSlim _event = new(false, spinCount: 0);
    private int _waiting;

    /// <summary>A message was delivered, or delivery ended.</summary>
    public void Notify()
    {
        if (Volatile.Read(ref _waiting) != 0)
        {
            _event.Set();
        }
    }

    /// <summary>Blocks until <see cref="Notify"/> unless <paramref name="ready"/> already holds.</summary>
    public void Wait(Func<bool> ready)
    {
        _event.Reset();
        Interlocked.Exchange(ref _waiting, 1);
        try
        {
            // Checked after announcing the wait, so a delivery in between is seen here or sets the event.
            if (!ready())
            {
                _event.Wait();
            }
        }
        finally
        {
            Volatile.Write(ref _waiting, 0);
        }
    }

    public void Dispose() => _event.Dispose();
}

/// <summary>A subscriber that can wake its consumer directly when it delivers a message.</summary>
internal interface IArrivalNotifier
{
    /// <summary>Sets the signal to notify after each message written to the channel and when the channel completes;
    /// <see langword="null"/> to stop.</summary>
    ArrivalSignal? ArrivalSignal { set; }
}
