using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// The byte stream under each MQTT connection (plain TCP, or the decrypted side of TLS): reads are buffered, writes
/// coalesced, and on a subscriber connection QoS 0 and 1 PUBLISH packets are taken straight from the read buffer.
/// </summary>
/// <remarks>
/// <para>MQTTnet reads every packet with at least two small reads (fixed header, then body); here one read of up to
/// 64 KiB serves hundreds of packets. Likewise every acknowledgement would be a separate small write: a write here only
/// copies into a pending buffer, and one sender at a time, started on the thread pool, sends whatever has gathered.</para>
/// <para>With an <see cref="IPublishSink"/> (a subscriber), a thread of the stream's own reads the socket with blocking
/// calls and follows the MQTT packet boundaries of what it reads. A whole QoS 0 or 1 PUBLISH is decoded here (topic, packet id, payload copied out of the buffer) and handed to
/// the sink; MQTTnet never sees it, so none of its per-message work (packet and message objects, queue, processing task,
/// event arguments, acknowledgement packet) is spent. Its PUBACK is written here too, by
/// <see cref="TryAcknowledge"/>, between MQTTnet's own packets. Everything else (CONNACK, SUBACK, PINGRESP, DISCONNECT,
/// QoS 2 and any PUBLISH this parser does not take) is passed to MQTTnet byte for byte.</para>
/// <para>With a <see cref="ReceiveGate"/>, reading pauses while too many received messages wait for their
/// acknowledgement, so TCP holds back a broker that ignores Receive Maximum.</para>
/// <para>The socket gets large kernel buffers (<see cref="MqttOptions.SocketBufferSize"/>): MQTTnet's own 8 KiB pins
/// the TCP window and a large backlog on loopback can then stall on the persist timer.</para>
/// </remarks>
internal sealed class MqttConnectionStream : Stream
{
    internal const int ReadBufferSize = 64 * 1024;
    private const int MaxPendingBytes = 4 * 1024 * 1024;
    private const int SlabSize = 16 * 1024;

    private readonly Stream _inner;
    private readonly Socket? _socket;
    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private readonly Lock _writeGate = new();
    private readonly ReceiveGate? _receiveGate;
    private readonly int _epoch;
    private readonly IPublishSink? _sink;
    private readonly bool _mqtt5;

    // Read side: [_readStart, _readEnd) is unread; _passRemaining bytes of the packet at _readStart belong to MQTTnet.
    // With a sink, a dedicated thread reads; what belongs to MQTTnet waits in [_passStart, _passEnd) of _passBuffer.
    private readonly Lock _passGate = new();
    private readonly CancellationTokenSource _closed = new();
    private byte[] _passBuffer = [];
    private int _passStart;
    private int _passEnd;
    private bool _readEnded;
    private Exception? _readError;
    private TaskCompletionSource? _passWaiter;
    private int _readStart;
    private int _readEnd;
    private int _passRemaining;
    private byte[] _topicBytes = [];
    private string _topic = string.Empty;
    private byte[] _slab = [];
    private int _slabUsed;

    // Write side.
    private byte[] _pending = new byte[16 * 1024];
    private byte[] _sending = new byte[16 * 1024];
    private int _pendingLength;
    private byte[] _deferred = new byte[256];
    private int _deferredLength;
    private MqttFraming _writeFraming;
    private bool _sendInFlight;
    private Exception? _sendError;
    private TaskCompletionSource? _drained;
    private int _disposed;

    /// <param name="inner">The connected transport (a <see cref="NetworkStream"/> or an authenticated SslStream).</param>
    /// <param name="socket">The socket under <paramref name="inner"/>, shut down on dispose; null in tests.</param>
    /// <param name="receiveGate">Back-pressure of a subscriber connection; its epoch is taken now.</param>
    /// <param name="sink">Where PUBLISH packets taken from the stream go; null to pass everything to MQTTnet.</param>
    /// <param name="mqtt5">Whether the connection speaks MQTT 5 (PUBLISH packets carry properties).</param>
    public MqttConnectionStream(Stream inner, Socket? socket, ReceiveGate? receiveGate = null, IPublishSink? sink = null, bool mqtt5 = true)
    {
        _inner = inner;
        _socket = socket;
        _receiveGate = receiveGate;
        _epoch = receiveGate?.Epoch ?? 0;
        _sink = sink;
        _mqtt5 = mqtt5;
        if (sink is not null)
        {
            // A thread of its own, blocked in the socket's receive: woken by the kernel when bytes arrive, it decodes them
            // and hands the messages on, without an event-loop or thread-pool hop per read.
            new Thread(ReceiveLoop) { IsBackground = true, Name = "AmbientMqtt receive" }.Start();
        }
    }

    public override bool CanRead => Volatile.Read(ref _disposed) == 0;

    public override bool CanSeek => false;

    public override bool CanWrite => Volatile.Read(ref _disposed) == 0;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_sink is not null)
        {
            return await ReadPassedAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        if (_readStart == _readEnd)
        {
            _readStart = 0;
            _readEnd = await _inner.ReadAsync(_readBuffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (_readEnd == 0)
            {
                return 0;
            }
        }

        var count = Math.Min(buffer.Length, _readEnd - _readStart);
        _readBuffer.AsSpan(_readStart, count).CopyTo(buffer.Span);
        _readStart += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        bool start;
        Task? backPressure = null;
        lock (_writeGate)
        {
            ThrowIfBroken();
            Append(buffer.Span);
            _writeFraming.Scan(buffer.Span);
            if (_deferredLength > 0 && _writeFraming.AtBoundary)
            {
                // Acknowledgements that came while MQTTnet was between the parts of a packet.
                Append(_deferred.AsSpan(0, _deferredLength));
                _deferredLength = 0;
            }

            start = StartSending();
            if (_pendingLength > MaxPendingBytes)
            {
                // The broker does not read: hold the writer back rather than grow without bound.
                _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                backPressure = _drained.Task;
            }
        }

        if (start)
        {
            QueueSend();
        }

        return backPressure is null ? ValueTask.CompletedTask : new ValueTask(backPressure.WaitAsync(cancellationToken));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Acknowledges a QoS 1 PUBLISH that this stream handed to its sink: releases it from the receive gate and queues
    /// its PUBACK. A packet id belongs to the connection it came on, so once this stream is closed the acknowledgement is
    /// dropped (the broker delivers the message again on the next connection).
    /// </summary>
    /// <param name="packetId">The packet id the message came with.</param>
    /// <param name="sendNow">Start sending at once (on the thread pool); <see langword="false"/> when the caller acknowledges a
    /// whole batch and then calls <see cref="SendPending"/> itself.</param>
    /// <returns><see langword="false"/> if the connection is gone.</returns>
    public bool TryAcknowledge(ushort packetId, bool sendNow = true)
    {
        _receiveGate?.Released(_epoch);
        bool start;
        lock (_writeGate)
        {
            if (_disposed != 0 || _sendError is not null)
            {
                return false;
            }

            // PUBACK, remaining length 2: the packet id; MQTT 5 allows leaving out reason code 0 (success) and properties.
            Span<byte> puback = [0x40, 0x02, (byte)(packetId >> 8), (byte)packetId];
            if (_writeFraming.AtBoundary)
            {
                Append(puback);
            }
            else
            {
                if (_deferred.Length - _deferredLength < puback.Length)
                {
                    Array.Resize(ref _deferred, _deferred.Length * 2);
                }

                puback.CopyTo(_deferred.AsSpan(_deferredLength));
                _deferredLength += puback.Length;
            }

            start = sendNow && StartSending();
        }

        if (start)
        {
            QueueSend();
        }

        return true;
    }

    /// <summary>
    /// Sends what is pending on the calling thread (the acknowledgements of a batch in one system call), unless a send is
    /// already under way, which then takes it along.
    /// </summary>
    public void SendPending()
    {
        lock (_writeGate)
        {
            if (!StartSending())
            {
                return;
            }
        }

        SendLoopAsync(synchronous: true).GetAwaiter().GetResult();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        lock (_writeGate)
        {
            if (_sendError is { } error)
            {
                return Task.FromException(new IOException("The connection to the broker is broken.", error));
            }

            if (!_sendInFlight)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task.WaitAsync(cancellationToken);
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Volatile.Read(ref _disposed) == 0)
        {
            // Let what is already written (a DISCONNECT, the last acknowledgements) go out first.
            try
            {
                FlushAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(1));
            }
            catch (AggregateException)
            {
            }
        }

        if (Interlocked.Exchange(ref _disposed, 1) == 0 && disposing)
        {
            _closed.Cancel();
            EndReading(new ObjectDisposedException(nameof(MqttConnectionStream)));
            try
            {
                _socket?.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            _inner.Dispose();
            _socket?.Dispose();
            _closed.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The receive thread of a subscriber connection: reads, decodes, hands on, until the connection ends.</summary>
    private void ReceiveLoop()
    {
        try
        {
            while (true)
            {
                while (_readStart < _readEnd)
                {
                    if (_passRemaining > 0)
                    {
                        var count = Math.Min(_passRemaining, _readEnd - _readStart);
                        PassToMqttnet(_readBuffer.AsSpan(_readStart, count));
                        _readStart += count;
                        _passRemaining -= count;
                    }
                    else if (!TakePacket())
                    {
                        break;
                    }
                }

                // More bytes are needed: to complete the next header or PUBLISH, or for the rest of a packet MQTTnet reads.
                if (_readStart == _readEnd)
                {
                    _readStart = _readEnd = 0;
                }
                else if (_readStart > 0)
                {
                    _readBuffer.AsSpan(_readStart, _readEnd - _readStart).CopyTo(_readBuffer);
                    _readEnd -= _readStart;
                    _readStart = 0;
                }

                // Too many messages waiting for their acknowledgement: leave the rest in the socket, so TCP holds the broker back.
                _receiveGate?.WaitToRead(_closed.Token);

                var read = _inner.Read(_readBuffer, _readEnd, _readBuffer.Length - _readEnd);
                if (read == 0)
                {
                    EndReading(null);
                    return;
                }

                _readEnd += read;
            }
        }
        catch (Exception ex)
        {
            // The connection broke or was closed; MQTTnet learns it from its next read and reconnects.
            EndReading(ex);
        }
    }

    private void PassToMqttnet(ReadOnlySpan<byte> bytes)
    {
        TaskCompletionSource? waiter;
        lock (_passGate)
        {
            if (_passStart == _passEnd)
            {
                _passStart = _passEnd = 0;
            }

            if (_passBuffer.Length - _passEnd < bytes.Length)
            {
                var bigger = new byte[Math.Max(Math.Max(_passBuffer.Length * 2, 4096), _passEnd - _passStart + bytes.Length)];
                _passBuffer.AsSpan(_passStart, _passEnd - _passStart).CopyTo(bigger);
                _passEnd -= _passStart;
                _passStart = 0;
                _passBuffer = bigger;
            }

            bytes.CopyTo(_passBuffer.AsSpan(_passEnd));
            _passEnd += bytes.Length;
            waiter = _passWaiter;
            _passWaiter = null;
        }

        waiter?.TrySetResult();
    }

    private void EndReading(Exception? error)
    {
        TaskCompletionSource? waiter;
        lock (_passGate)
        {
            if (_readEnded)
            {
                return;
            }

            _readEnded = true;
            _readError = error;
            waiter = _passWaiter;
            _passWaiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>MQTTnet's reads on a subscriber connection: what the receive thread left for it.</summary>
    private async ValueTask<int> ReadPassedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_passGate)
            {
                if (_passStart < _passEnd)
                {
                    var count = Math.Min(buffer.Length, _passEnd - _passStart);
                    _passBuffer.AsSpan(_passStart, count).CopyTo(buffer.Span);
                    _passStart += count;
                    return count;
                }

                if (_readEnded)
                {
                    return _readError is null or ObjectDisposedException
                        ? 0
                        : throw new IOException("The connection to the broker is broken: " + _readError.Message, _readError);
                }

                _passWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _passWaiter.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// At a packet boundary with unread bytes: decides what the next packet is. A QoS 0 or 1 PUBLISH that is wholly in
    /// the buffer goes to the sink; anything else is marked for MQTTnet (<see cref="_passRemaining"/>).
    /// </summary>
    /// <returns><see langword="false"/> when the packet's header, or a PUBLISH the sink takes, is not complete yet.</returns>
    private bool TakePacket()
    {
        var available = _readEnd - _readStart;
        var data = _readBuffer.AsSpan(_readStart, available);
        var header = data[0];
        var remaining = 0;
        var headerLength = 1;
        for (var shift = 0; ; shift += 7)
        {
            if (headerLength >= available)
            {
                return false;
            }

            var b = data[headerLength++];
            remaining |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }

            if (headerLength == 5)
            {
                // Not MQTT: let MQTTnet see it and report the protocol error.
                _passRemaining = available;
                return true;
            }
        }

        var total = headerLength + remaining;
        var isPublish = header >> 4 == 3;
        var qos = (header >> 1) & 3;
        if (isPublish && qos < 2 && _sink is not null && total <= _readBuffer.Length)
        {
            if (available < total)
            {
                return false;
            }

            if (TryDeliver(qos, data.Slice(headerLength, remaining)))
            {
                if (qos > 0)
                {
                    _receiveGate?.Arrived();
                }

                _readStart += total;
                return true;
            }
        }

        if (isPublish && qos > 0)
        {
            // MQTTnet's path acknowledges it (and releases it from the gate) through the subscriber's event handler.
            _receiveGate?.Arrived();
        }

        _passRemaining = total;
        return true;
    }

    private bool TryDeliver(int qos, ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            return false;
        }

        var topicLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        var offset = 2 + topicLength;
        if (topicLength == 0 || offset > body.Length)
        {
            // An empty topic would need a topic alias, which this client never allows; MQTTnet reports it.
            return false;
        }

        var topic = body.Slice(2, topicLength);
        ushort packetId = 0;
        if (qos > 0)
        {
            if (offset + 2 > body.Length)
            {
                return false;
            }

            packetId = BinaryPrimitives.ReadUInt16BigEndian(body[offset..]);
            offset += 2;
            if (packetId == 0)
            {
                return false;
            }
        }

        if (_mqtt5)
        {
            // Properties (message expiry, content type, user properties…): nothing here needs them.
            var propertiesLength = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (offset >= body.Length || shift > 21)
                {
                    return false;
                }

                var b = body[offset++];
                propertiesLength |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }

            if (propertiesLength > body.Length - offset)
            {
                return false;
            }

            offset += propertiesLength;
        }

        _sink!.OnPublish(this, TopicString(topic), CopyPayload(body[offset..]), packetId);
        return true;
    }

    /// <summary>The topic as a string, allocated only when it differs from the previous message's.</summary>
    private string TopicString(ReadOnlySpan<byte> topic)
    {
        if (!topic.SequenceEqual(_topicBytes))
        {
            _topicBytes = topic.ToArray();
            _topic = Encoding.UTF8.GetString(topic);
        }

        return _topic;
    }

    /// <summary>
    /// Copies a payload out of the read buffer (which the next read overwrites). Small payloads share 16 KiB slabs: one
    /// allocation serves about a hundred readings, and a slab is collected once no message refers to it.
    /// </summary>
    private ReadOnlyMemory<byte> CopyPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (payload.Length > SlabSize / 8)
        {
            return payload.ToArray();
        }

        if (_slab.Length - _slabUsed < payload.Length)
        {
            _slab = new byte[SlabSize];
            _slabUsed = 0;
        }

        payload.CopyTo(_slab.AsSpan(_slabUsed));
        var copy = new ReadOnlyMemory<byte>(_slab, _slabUsed, payload.Length);
        _slabUsed += payload.Length;
        return copy;
    }

    private void ThrowIfBroken()
    {
        if (_sendError is { } error)
        {
            throw new IOException("The connection to the broker is broken.", error);
        }

        ObjectDisposedException.ThrowIf(_disposed != 0, this);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_pending.Length - _pendingLength < bytes.Length)
        {
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingLength + bytes.Length));
        }

        bytes.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += bytes.Length;
    }

    private bool StartSending()
    {
        if (_sendInFlight || _pendingLength == 0)
        {
            return false;
        }

        _sendInFlight = true;
        return true;
    }

    // On the thread pool, so that writes made meanwhile (the rest of a batch's acknowledgements) join this send.
    // A subscriber connection writes with blocking calls too, to keep its socket in blocking mode (see the provider).
    private void QueueSend() => ThreadPool.UnsafeQueueUserWorkItem(
        static s =>
        {
            var stream = (MqttConnectionStream)s!;
            _ = stream.SendLoopAsync(synchronous: stream._sink is not null);
        },
        this);

    private async Task SendLoopAsync(bool synchronous)
    {
        while (true)
        {
            int length;
            lock (_writeGate)
            {
                if (_pendingLength == 0)
                {
                    _sendInFlight = false;
                    _drained?.TrySetResult();
                    _drained = null;
                    return;
                }

                (_pending, _sending) = (_sending, _pending);
                length = _pendingLength;
                _pendingLength = 0;
                if (_pending.Length < _sending.Length)
                {
                    _pending = new byte[_sending.Length];
                }
            }

            try
            {
                if (synchronous)
                {
                    _inner.Write(_sending, 0, length);
                }
                else
                {
                    await _inner.WriteAsync(_sending.AsMemory(0, length)).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or NotSupportedException or InvalidOperationException)
            {
                lock (_writeGate)
                {
                    _sendError = ex;
                    _sendInFlight = false;
                    _drained?.TrySetException(new IOException("The connection to the broker is broken.", ex));
                    _drained = null;
                }

                return;
            }
        }
    }
}

/// <summary>Takes the PUBLISH packets a subscriber connection's <see cref="MqttConnectionStream"/> decodes itself.</summary>
internal interface IPublishSink
{
    /// <summary>A QoS 0 or 1 message arrived on <paramref name="stream"/>; called on its read path, in order.</summary>
    /// <param name="stream">The connection; acknowledge through <see cref="MqttConnectionStream.TryAcknowledge"/>.</param>
    /// <param name="topic">The topic name.</param>
    /// <param name="payload">The payload, copied: it stays valid.</param>
    /// <param name="packetId">The packet id of a QoS 1 message, 0 for QoS 0 (nothing to acknowledge).</param>
    void OnPublish(MqttConnectionStream stream, string topic, ReadOnlyMemory<byte> payload, ushort packetId);
}

/// <summary>A received message whose acknowledgement can wait for the rest of its batch, to go out in one send.</summary>
internal interface IBatchAcknowledgement
{
    /// <summary>Acknowledges the message without sending yet.</summary>
    /// <returns>The connection to call <see cref="MqttConnectionStream.SendPending"/> on once the batch is acknowledged,
    /// or <see langword="null"/> when there is nothing to send.</returns>
    MqttConnectionStream? AcknowledgeDeferred();
}

/// <summary>Follows MQTT packet boundaries (fixed header, remaining length, body) in a byte stream.</summary>
internal struct MqttFraming
{
    private int _state; // 0: fixed header byte, 1: remaining length, 2: body
    private int _remaining;
    private int _shift;

    /// <summary>Gets a value indicating whether everything scanned so far ends at a packet boundary.</summary>
    public readonly bool AtBoundary => _state == 0;

    public void Scan(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            switch (_state)
            {
                case 0:
                    i++;
                    _remaining = 0;
                    _shift = 0;
                    _state = 1;
                    break;
                case 1:
                    var b = data[i++];
                    _remaining |= (b & 0x7F) << _shift;
                    _shift += 7;
                    if ((b & 0x80) == 0)
                    {
                        _state = _remaining > 0 ? 2 : 0;
                    }

                    break;
                default:
                    var take = Math.Min(_remaining, data.Length - i);
                    i += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = 0;
                    }

                    break;
            }
        }
    }
}
