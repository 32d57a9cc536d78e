namespace AmbientMqtt.Mqtt;

/// <summary>
/// Back-pressure on the socket of one subscriber connection: once too many received messages are waiting for their
/// acknowledgement, the connection stops reading from the socket until enough are released.
/// </summary>
/// <remarks>
/// MQTT 5 Receive Maximum should make this unnecessary, but Debian's mosquitto 2.0.11 stops enforcing it once the client
/// acknowledges (eclipse/mosquitto#2306), and MQTTnet queues whatever arrives without limit. Pausing the reads lets TCP
/// hold the broker back, so the messages in hand stay bounded whatever the broker does. A new connection starts a new
/// epoch: messages of an old connection no longer count (they cannot be acknowledged; the broker delivers them again).
/// </remarks>
internal sealed class ReceiveGate
{
    private readonly int _pauseAt;
    private readonly int _resumeAt;
    private readonly Lock _gate = new();
    private int _inHand;
    private int _epoch;
    private TaskCompletionSource? _resume;

    public ReceiveGate(int receiveMaximum)
    {
        // Wide hysteresis: a broker that ignores Receive Maximum floods in bursts, and pausing and resuming at every
        // batch would cost more than the memory it saves.
        _pauseAt = Math.Max(4 * receiveMaximum, 64);
        _resumeAt = _pauseAt / 4;
    }

    public int Epoch => Volatile.Read(ref _epoch);

    public int InHand => Volatile.Read(ref _inHand);

    /// <summary>The connection's stream read the header of a PUBLISH that needs an acknowledgement (QoS 1 or 2), whether
    /// it decodes the message itself or passes it to MQTTnet; counted as the bytes are read, so the bound holds however
    /// far MQTTnet's own processing lags behind.</summary>
    public void Arrived()
    {
        lock (_gate)
        {
            _inHand++;
        }
    }

    /// <summary>A message that arrived in <paramref name="epoch"/> was acknowledged (or set aside); messages of an older
    /// connection are ignored.</summary>
    public void Released(int epoch)
    {
        TaskCompletionSource? resume = null;
        lock (_gate)
        {
            if (epoch != _epoch || _inHand == 0)
            {
                return;
            }

            _inHand--;
            if (_inHand <= _resumeAt)
            {
                resume = _resume;
                _resume = null;
            }
        }

        resume?.TrySetResult();
    }

    /// <summary>A new connection: nothing of it is in hand yet.</summary>
    public void NewEpoch()
    {
        TaskCompletionSource? resume;
        lock (_gate)
        {
            _epoch++;
            _inHand = 0;
            resume = _resume;
            _resume = null;
        }

        resume?.TrySetResult();
    }

    /// <summary>Returns at once while reading is allowed; otherwise blocks until enough messages have been released.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    public void WaitToRead(CancellationToken cancellationToken)
    {
        Task resume;
        lock (_gate)
        {
            if (_inHand < _pauseAt)
            {
                return;
            }

            _resume ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            resume = _resume.Task;
        }

        resume.Wait(cancellationToken);
    }
}
