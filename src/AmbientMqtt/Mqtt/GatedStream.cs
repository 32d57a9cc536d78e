using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// A subscriber connection's socket stream that waits for its <see cref="ReceiveGate"/> before each read. Byte for
/// byte what the socket carries, both ways: MQTTnet (and its TLS, on top) reads and writes every packet; this only
/// decides when the next read may start.
/// </summary>
internal sealed class GatedStream(NetworkStream inner, ReceiveGate gate) : Stream, IMqttClientStreamEndPoints
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public EndPoint? LocalEndPoint => inner.Socket.LocalEndPoint;

    public EndPoint? RemoteEndPoint => inner.Socket.RemoteEndPoint;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await gate.WaitOpenAsync(cancellationToken).ConfigureAwait(false);
        return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        gate.WaitOpenAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return inner.Read(buffer, offset, count);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
