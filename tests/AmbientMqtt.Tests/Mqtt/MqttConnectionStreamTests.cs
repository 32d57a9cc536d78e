using System.Collections.Concurrent;
using System.Text;
using AmbientMqtt.Mqtt;

namespace AmbientMqtt.Tests.Mqtt;

/// <summary>
/// The subscriber connection's stream against a scripted transport: which packets it decodes itself, which it passes to
/// MQTTnet byte for byte, however the bytes are split, and where its acknowledgements go.
/// </summary>
public sealed class MqttConnectionStreamTests
{
    private static readonly byte[] Connack = [0x20, 0x03, 0x00, 0x00, 0x00];
    private static readonly byte[] Pingresp = [0xD0, 0x00];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task QoS1Publishes_GoToTheSink_AndEverythingElseToMqttnet_HoweverTheBytesAreSplit(int chunk)
    {
        var wire = Concat(
            Connack,
            Publish(qos: 1, "raspi/bme", packetId: 1, "{\"a\":1}"),
            Publish(qos: 1, "raspi/bme", packetId: 2, "{\"a\":2}", properties: [0x01, 0x01]), // payload format indicator
            Pingresp,
            Publish(qos: 0, "other/topic", packetId: 0, "zero"),
            Publish(qos: 1, "raspi/bme", packetId: 65535, string.Empty));
        using var transport = new ScriptedTransport();
        var sink = new CollectingSink();
        using var stream = new MqttConnectionStream(transport, socket: null, receiveGate: null, sink);

        transport.Feed(wire, chunk);
        var passed = await ReadPassedAsync(stream, Connack.Length + Pingresp.Length);
        await sink.WaitForAsync(4);

        passed.Should().Equal(Concat(Connack, Pingresp), "MQTTnet still gets the packets it handles, byte for byte");
        sink.Messages.Select(m => (m.Topic, Encoding.UTF8.GetString(m.Payload.Span), m.PacketId)).Should().Equal(
            ("raspi/bme", "{\"a\":1}", (ushort)1),
            ("raspi/bme", "{\"a\":2}", (ushort)2),
            ("other/topic", "zero", (ushort)0),
            ("raspi/bme", string.Empty, (ushort)65535));
    }

    [Fact]
    public async Task QoS2Publishes_AndPublishesLargerThanTheBuffer_PassToMqttnetWhole()
    {
        var qos2 = Publish(qos: 2, "raspi/bme", packetId: 9, "exactly once");
        var large = Publish(qos: 1, "raspi/bme", packetId: 10, new string('x', MqttConnectionStream.ReadBufferSize + 100));
        var after = Publish(qos: 1, "raspi/bme", packetId: 11, "after");
        using var transport = new ScriptedTransport();
        var sink = new CollectingSink();
        var gate = new ReceiveGate(receiveMaximum: 1000);
        using var stream = new MqttConnectionStream(transport, socket: null, gate, sink);

        transport.Feed(Concat(qos2, large, after), 1000);
        var passed = await ReadPassedAsync(stream, qos2.Length + large.Length);
        await sink.WaitForAsync(1);

        passed.Should().Equal(Concat(qos2, large));
        sink.Messages.Single().PacketId.Should().Be(11);
        gate.InHand.Should().Be(3, "every QoS 1 and 2 PUBLISH counts against the receive gate, whoever handles it");
    }

    [Fact]
    public async Task MalformedPublish_IsLeftToMqttnet_WhichReportsTheProtocolError()
    {
        // Topic length 200 in a packet of 5 bytes: not decodable, so MQTTnet gets it and closes the connection.
        byte[] malformed = [0x32, 0x05, 0x00, 0xC8, 0x61, 0x00, 0x01];
        using var transport = new ScriptedTransport();
        var sink = new CollectingSink();
        using var stream = new MqttConnectionStream(transport, socket: null, receiveGate: null, sink);

        transport.Feed(malformed, 64);
        var passed = await ReadPassedAsync(stream, malformed.Length);

        passed.Should().Equal(malformed);
        sink.Messages.Should().BeEmpty();
    }

    [Fact]
    public void Acknowledgement_IsAPubackWithThePacketId_SentWhenAsked()
    {
        using var transport = new ScriptedTransport();
        var sink = new CollectingSink();
        using var stream = new MqttConnectionStream(transport, socket: null, receiveGate: null, sink);

        stream.TryAcknowledge(0x1234, sendNow: false).Should().BeTrue();
        stream.TryAcknowledge(0x00FF, sendNow: false).Should().BeTrue();
        transport.Written.Should().BeEmpty("a batch's acknowledgements wait for SendPending");
        stream.SendPending();

        transport.Written.Should().Equal(0x40, 0x02, 0x12, 0x34, 0x40, 0x02, 0x00, 0xFF);
    }

    [Fact]
    public async Task Acknowledgement_NeverLandsInsideAPacketMqttnetIsWriting()
    {
        using var transport = new ScriptedTransport();
        var sink = new CollectingSink();
        using var stream = new MqttConnectionStream(transport, socket: null, receiveGate: null, sink);

        // MQTTnet writes a SUBSCRIBE in two parts (header, then the rest); an acknowledgement comes in between.
        byte[] subscribe = [0x82, 0x0F, 0x00, 0x01, 0x00, 0x00, 0x09, .. "raspi/bme"u8, 0x01];
        await stream.WriteAsync(subscribe.AsMemory(0, 4), TestContext.Current.CancellationToken);
        stream.TryAcknowledge(7, sendNow: false).Should().BeTrue();
        await stream.WriteAsync(subscribe.AsMemory(4), TestContext.Current.CancellationToken);
        await stream.FlushAsync(TestContext.Current.CancellationToken);
        stream.SendPending();

        transport.Written.Should().Equal([.. subscribe, 0x40, 0x02, 0x00, 0x07]);
    }

    [Fact]
    public void Acknowledgement_AfterTheConnectionClosed_IsDropped()
    {
        using var transport = new ScriptedTransport();
        var gate = new ReceiveGate(receiveMaximum: 10);
        var stream = new MqttConnectionStream(transport, socket: null, gate, new CollectingSink());
        stream.Dispose();

        stream.TryAcknowledge(1).Should().BeFalse("its packet id means nothing on the next connection");
        transport.Written.Should().BeEmpty();
    }

    [Fact]
    public async Task EndOfStream_ReachesMqttnetAfterWhatWasPassed()
    {
        using var transport = new ScriptedTransport();
        using var stream = new MqttConnectionStream(transport, socket: null, receiveGate: null, new CollectingSink());

        transport.Feed(Connack, 2);
        transport.End();
        var passed = await ReadPassedAsync(stream, Connack.Length);
        var buffer = new byte[16];
        var end = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        passed.Should().Equal(Connack);
        end.Should().Be(0);
    }

    private static async Task<byte[]> ReadPassedAsync(Stream stream, int count)
    {
        var result = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await stream.ReadAsync(result.AsMemory(read), TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            n.Should().BePositive("the stream ended after {0} of {1} bytes", read, count);
            read += n;
        }

        return result;
    }

    private static byte[] Publish(int qos, string topic, ushort packetId, string payload, byte[]? properties = null)
    {
        var body = new List<byte>();
        var topicBytes = Encoding.UTF8.GetBytes(topic);
        body.Add((byte)(topicBytes.Length >> 8));
        body.Add((byte)topicBytes.Length);
        body.AddRange(topicBytes);
        if (qos > 0)
        {
            body.Add((byte)(packetId >> 8));
            body.Add((byte)packetId);
        }

        properties ??= [];
        body.Add((byte)properties.Length); // under 128: one byte of variable length
        body.AddRange(properties);
        body.AddRange(Encoding.UTF8.GetBytes(payload));

        var packet = new List<byte> { (byte)(0x30 | (qos << 1)) };
        var remaining = body.Count;
        do
        {
            var b = (byte)(remaining % 128);
            remaining /= 128;
            packet.Add(remaining > 0 ? (byte)(b | 0x80) : b);
        }
        while (remaining > 0);
        packet.AddRange(body);
        return [.. packet];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private sealed record Delivered(string Topic, ReadOnlyMemory<byte> Payload, ushort PacketId);

    private sealed class CollectingSink : IPublishSink
    {
        private readonly ConcurrentQueue<Delivered> _messages = new();
        private readonly SemaphoreSlim _arrived = new(0);

        public IReadOnlyList<Delivered> Messages => [.. _messages];

        public void OnPublish(MqttConnectionStream stream, string topic, ReadOnlyMemory<byte> payload, ushort packetId)
        {
            _messages.Enqueue(new Delivered(topic, payload, packetId));
            _arrived.Release();
        }

        public async Task WaitForAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                (await _arrived.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue($"message {i + 1} of {count} should arrive");
            }
        }
    }

    /// <summary>A transport whose reads return the fed chunks in order (blocking until there is one) and whose writes are recorded.</summary>
    private sealed class ScriptedTransport : Stream
    {
        private readonly BlockingCollection<byte[]> _chunks = [];
        private readonly List<byte> _written = [];
        private byte[] _current = [];
        private int _offset;

        public List<byte> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void Feed(byte[] bytes, int chunk)
        {
            for (var i = 0; i < bytes.Length; i += chunk)
            {
                _chunks.Add(bytes[i..Math.Min(bytes.Length, i + chunk)]);
            }
        }

        public void End() => _chunks.CompleteAdding();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_offset == _current.Length)
            {
                try
                {
                    if (!_chunks.TryTake(out var next, Timeout.Infinite))
                    {
                        return 0;
                    }

                    _current = next;
                    _offset = 0;
                }
                catch (ObjectDisposedException)
                {
                    return 0;
                }
            }

            var n = Math.Min(count, _current.Length - _offset);
            Array.Copy(_current, _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_written)
            {
                _written.AddRange(buffer.AsSpan(offset, count).ToArray());
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.ToArray(), 0, buffer.Length);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _chunks.CompleteAdding();
            }

            base.Dispose(disposing);
        }
    }
}
