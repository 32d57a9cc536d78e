using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// The TCP stream under each MQTT connection: reads are buffered and writes coalesced.
/// </summary>
/// <remarks>
/// <para>MQTTnet reads every packet with at least two small reads (fixed header, then body), each a system call on a
/// plain <see cref="NetworkStream"/>; at thousands of messages a second that, not the parsing, is where the time goes.
/// Here one receive fills a 64 KiB buffer and serves hundreds of packets.</para>
/// <para>Likewise every acknowledgement is a separate small write. A write here only copies into a pending buffer; one
/// sender at a time, started on the thread pool, sends whatever has gathered in a single system call. A lone write still
/// goes out at once (one thread-pool hop later); a burst of acknowledgements after a commit goes out in a few sends.
/// A send error is reported by the next write, and the reader sees the closed socket.</para>
/// <para>The socket gets large kernel buffers (<see cref="MqttOptions.SocketBufferSize"/>): MQTTnet's own 8 KiB pins
/// the TCP window and a large backlog on loopback can then stall on the persist timer.</para>
/// </remarks>
internal sealed class BufferedSocketStream : Stream
{
    private const int ReadBufferSize = 64 * 1024;
    private const int MaxPendingBytes = 4 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private readonly Lock _writeGate = new();
    private int _readStart;
    private int _readEnd;
    private byte[] _pending = new byte[16 * 1024];
    private byte[] _sending = new byte[16 * 1024];
    private int _pendingLength;
    private bool _sendInFlight;
    private Exception? _sendError;
    private TaskCompletionSource? _drained;
    private int _disposed;

    private readonly ReceiveGate? _receiveGate;
    private MqttFraming _framing;

    public BufferedSocketStream(Socket socket, ReceiveGate? receiveGate = null)
    {
        _socket = socket;
        _receiveGate = receiveGate;
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
        if (_readStart == _readEnd)
        {
            if (_receiveGate is not null)
            {
                // Too many messages waiting for their acknowledgement: leave the rest in the socket, so TCP holds the broker back.
                await _receiveGate.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                if (buffer.Length >= ReadBufferSize)
                {
                    var direct = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    _framing.Scan(buffer.Span[..direct], _receiveGate);
                    return direct;
                }

                _readStart = 0;
                _readEnd = await _socket.ReceiveAsync(_readBuffer.AsMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                _framing.Scan(_readBuffer.AsSpan(0, _readEnd), _receiveGate);
            }
            catch (SocketException ex)
            {
                throw new IOException(ex.Message, ex);
            }

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
            if (_sendError is { } error)
            {
                throw new IOException("The connection to the broker is broken.", error);
            }

            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_pending.Length - _pendingLength < buffer.Length)
            {
                Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingLength + buffer.Length));
            }

            buffer.Span.CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += buffer.Length;
            start = !_sendInFlight;
            _sendInFlight = true;
            if (_pendingLength > MaxPendingBytes)
            {
                // The broker does not read: hold the writer back rather than grow without bound.
                _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                backPressure = _drained.Task;
            }
        }

        if (start)
        {
            // On the thread pool, so that writes made meanwhile (the rest of a batch's acknowledgements) join this send.
            ThreadPool.UnsafeQueueUserWorkItem(static s => _ = ((BufferedSocketStream)s!).SendLoopAsync(), this);
        }

        return backPressure is null ? ValueTask.CompletedTask : new ValueTask(backPressure.WaitAsync(cancellationToken));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

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
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && disposing)
        {
            // Let what is already written (a DISCONNECT, the last acknowledgements) go out first.
            try
            {
                FlushAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(1));
            }
            catch (AggregateException)
            {
            }

            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }

            _socket.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task SendLoopAsync()
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
                var sent = 0;
                while (sent < length)
                {
                    sent += await _socket.SendAsync(_sending.AsMemory(sent, length - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
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

/// <summary>
/// Follows MQTT packet boundaries in the received bytes (fixed header, remaining length, body) to count the PUBLISH
/// packets that need an acknowledgement, for the <see cref="ReceiveGate"/>.
/// </summary>
internal struct MqttFraming
{
    private int _state; // 0: fixed header byte, 1: remaining length, 2: body
    private byte _header;
    private int _remaining;
    private int _multiplier;

    public void Scan(ReadOnlySpan<byte> data, ReceiveGate? gate)
    {
        if (gate is null)
        {
            return;
        }

        var i = 0;
        while (i < data.Length)
        {
            switch (_state)
            {
                case 0:
                    _header = data[i++];
                    _remaining = 0;
                    _multiplier = 1;
                    _state = 1;
                    break;
                case 1:
                    var b = data[i++];
                    _remaining += (b & 0x7F) * _multiplier;
                    _multiplier *= 128;
                    if ((b & 0x80) == 0)
                    {
                        // PUBLISH (type 3) with QoS 1 or 2 in flags bits 1-2: it will be acknowledged, so it counts.
                        if (_header >> 4 == 3 && ((_header >> 1) & 3) != 0)
                        {
                            gate.Arrived();
                        }

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

/// <summary>Connects MQTTnet's TCP channel through a <see cref="BufferedSocketStream"/>.</summary>
internal sealed class BufferedSocketStreamProvider(int socketBufferSize, ReceiveGate? receiveGate) : IMqttClientStreamProvider
{
    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveBufferSize = socketBufferSize,
            SendBufferSize = socketBufferSize,
        };
        try
        {
            await socket.ConnectAsync(brokerEndPoint, cancellationToken).ConfigureAwait(false);
            receiveGate?.NewEpoch();
            return new BufferedSocketStream(socket, receiveGate);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
