using System.Text;
using AmbientMqtt.Mqtt;
using BenchmarkDotNet.Attributes;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// The receive side of a subscriber connection, per message: the PUBLISH taken from the read buffer (header, topic,
/// packet id, properties), its payload copied out, and the sink called, as MqttReadingSubscriber's connections do.
/// One operation is 10,000 tutorial payloads read from memory; the stream's own set-up (its thread and 64 KiB buffer) is
/// included, spread over them.
/// </summary>
[MemoryDiagnoser]
public class ReceiveBenchmarks
{
    private const int Messages = 10_000;
    private readonly CountingSink _sink = new();
    private byte[] _wire = [];

    [GlobalSetup]
    public void Setup()
    {
        var payload = """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}"""u8.ToArray();
        var topic = Encoding.UTF8.GetBytes("raspi/bme");
        using var wire = new MemoryStream();
        for (var i = 0; i < Messages; i++)
        {
            var remaining = 2 + topic.Length + 2 + 1 + payload.Length;
            wire.WriteByte(0x32); // PUBLISH, QoS 1
            wire.WriteByte((byte)((remaining % 128) | 0x80));
            wire.WriteByte((byte)(remaining / 128));
            wire.WriteByte(0);
            wire.WriteByte((byte)topic.Length);
            wire.Write(topic);
            var id = (ushort)((i % 65535) + 1);
            wire.WriteByte((byte)(id >> 8));
            wire.WriteByte((byte)id);
            wire.WriteByte(0); // no properties
            wire.Write(payload);
        }

        _wire = wire.ToArray();
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public long TakePublishPackets()
    {
        _sink.Reset(Messages);
        using var stream = new MqttConnectionStream(new MemoryStream(_wire, writable: false), socket: null, receiveGate: null, _sink);
        _sink.Done.Wait();
        return _sink.Bytes;
    }

    private sealed class CountingSink : IPublishSink
    {
        private int _left;

        public ManualResetEventSlim Done { get; } = new(false);

        public long Bytes { get; private set; }

        public void Reset(int count)
        {
            _left = count;
            Bytes = 0;
            Done.Reset();
        }

        public void OnPublish(MqttConnectionStream stream, string topic, ReadOnlyMemory<byte> payload, ushort packetId)
        {
            Bytes += payload.Length;
            if (--_left == 0)
            {
                Done.Set();
            }
        }
    }
}
