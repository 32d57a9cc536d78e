using BenchmarkDotNet.Attributes;
using NodaTime;

namespace AmbientMqtt.Benchmarks;

/// <summary>The decode path every received message takes, and the encode path of every published reading.</summary>
[MemoryDiagnoser]
public class PayloadBenchmarks
{
    private static readonly byte[] TutorialPayload =
        """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007}"""u8.ToArray();

    private static readonly byte[] WithIdentifier =
        """{"timestamp": "2024-10-08T08:54:50.547143+09:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007, "identifier": "tochigi_iot_899"}"""u8.ToArray();

    // What a numbering publisher sends (issue 9's gap detection): identifier and seq after the tutorial's fields.
    private static readonly byte[] WithSequence =
        """{"timestamp": "2024-10-07T23:54:50.547143+00:00", "temperature": 26.72680231416598, "humidity": 57.53434981211512, "pressure": 997.8079720341007, "identifier": "tochigi_iot_899", "seq": 1204}"""u8.ToArray();

    private static readonly AmbientReading Reading =
        new(Instant.FromUtc(2024, 10, 7, 23, 54, 50).PlusNanoseconds(547_143_000), 26.72680231416598, 57.53434981211512, 997.8079720341007);

    private static readonly AmbientReading ReadingWithSequence = Reading with { Identifier = "tochigi_iot_899", Sequence = 1204 };

    [Benchmark(Baseline = true)]
    public AmbientReading Decode() => AmbientPayload.Decode(TutorialPayload);

    [Benchmark]
    public AmbientReading DecodeWithIdentifier() => AmbientPayload.Decode(WithIdentifier);

    [Benchmark]
    public AmbientReading DecodeWithSequence() => AmbientPayload.Decode(WithSequence);

    [Benchmark]
    public byte[] Encode() => AmbientPayload.Encode(Reading);

    [Benchmark]
    public byte[] EncodeWithSequence() => AmbientPayload.Encode(ReadingWithSequence);
}
