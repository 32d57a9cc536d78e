using AmbientMqtt.Sensors;
using Microsoft.Extensions.Time.Testing;
using NodaTime;

namespace AmbientMqtt.Tests.Sensors;

public sealed class SimulatedSensorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(0)]
    [InlineData(42)]
    [InlineData(-7)]
    public async Task ReadAsync_SameSeed_GivesSameSequence(int seed)
    {
        var first = await ReadManyAsync(new SimulatedSensor(seed), 500);
        var second = await ReadManyAsync(new SimulatedSensor(seed), 500);

        second.Select(Values).Should().Equal(first.Select(Values));
    }

    [Fact]
    public async Task ReadAsync_DifferentSeeds_GiveDifferentSequences()
    {
        var a = await ReadManyAsync(new SimulatedSensor(1), 50);
        var b = await ReadManyAsync(new SimulatedSensor(2), 50);

        a.Zip(b).Should().OnlyContain(pair => pair.First.Temperature != pair.Second.Temperature);
    }

    [Fact]
    public async Task ReadAsync_SeedZero_GivesPinnedFirstValues()
    {
        // Pins the generator, so a change to the simulation shows up here rather than as a silently different data
        // set. The tolerance allows for Math.Sin/Log differing in the last bit between CPU architectures.
        var sensor = new SimulatedSensor(0);

        var reading = await sensor.ReadAsync(Ct);

        reading.Temperature.Should().BeApproximately(22.58080999391445, 1e-9);
        reading.Humidity.Should().BeApproximately(52.94051269990161, 1e-9);
        reading.Pressure.Should().BeApproximately(1009.6274389556163, 1e-9);
    }

    [Fact]
    public async Task ReadAsync_Values_KeepFullDoublePrecision()
    {
        var readings = await ReadManyAsync(new SimulatedSensor(11), 20);

        readings.Should().OnlyContain(r =>
            r.Temperature != Math.Round(r.Temperature, 6)
            && r.Humidity != Math.Round(r.Humidity, 6)
            && r.Pressure != Math.Round(r.Pressure, 6));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(12345)]
    public async Task ReadAsync_ManyReadings_StayInPlausibleRanges(int seed)
    {
        var readings = await ReadManyAsync(new SimulatedSensor(seed), 20_000);

        readings.Should().OnlyContain(r =>
            r.Temperature >= 20 && r.Temperature <= 27
            && r.Humidity >= 40 && r.Humidity <= 60
            && r.Pressure >= 1000 && r.Pressure <= 1015);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(99)]
    public async Task ReadAsync_ConsecutiveReadings_DriftSlowly(int seed)
    {
        var readings = await ReadManyAsync(new SimulatedSensor(seed), 5_000);
        var steps = readings.Zip(readings.Skip(1)).ToList();

        steps.Max(s => Math.Abs(s.Second.Temperature - s.First.Temperature)).Should().BeLessThan(0.6);
        steps.Max(s => Math.Abs(s.Second.Humidity - s.First.Humidity)).Should().BeLessThan(1.5);
        steps.Max(s => Math.Abs(s.Second.Pressure - s.First.Pressure)).Should().BeLessThan(1.0);
    }

    [Fact]
    public async Task ReadAsync_OneSimulatedDay_SwingsAcrossTheRange()
    {
        var readings = await ReadManyAsync(new SimulatedSensor(5), 1440);

        (readings.Max(r => r.Temperature) - readings.Min(r => r.Temperature)).Should().BeGreaterThan(2.5);
        (readings.Max(r => r.Humidity) - readings.Min(r => r.Humidity)).Should().BeGreaterThan(4);
        (readings.Max(r => r.Pressure) - readings.Min(r => r.Pressure)).Should().BeGreaterThan(1);
    }

    [Fact]
    public async Task ReadAsync_WarmerRoom_IsDrier()
    {
        var readings = await ReadManyAsync(new SimulatedSensor(8), 2880);

        Correlation(readings.Select(r => r.Temperature).ToArray(), readings.Select(r => r.Humidity).ToArray())
            .Should().BeLessThan(-0.3);
    }

    [Fact]
    public async Task ReadAsync_FakeClockAndIdentifier_StampsReading()
    {
        var start = new DateTimeOffset(2024, 10, 7, 23, 54, 50, 547, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        var sensor = new SimulatedSensor(3, time, "node-1");

        var first = await sensor.ReadAsync(Ct);
        time.Advance(TimeSpan.FromSeconds(30));
        var second = await sensor.ReadAsync(Ct);

        first.Timestamp.Should().Be(Instant.FromDateTimeOffset(start));
        second.Timestamp.Should().Be(Instant.FromDateTimeOffset(start.AddSeconds(30)));
        first.Identifier.Should().Be("node-1");
    }

    [Fact]
    public async Task ReadAsync_ClockDoesNotChangeValues()
    {
        var early = new SimulatedSensor(4, new FakeTimeProvider(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var late = new SimulatedSensor(4, new FakeTimeProvider(new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero)));

        (await ReadManyAsync(late, 10)).Select(Values).Should().Equal((await ReadManyAsync(early, 10)).Select(Values));
    }

    [Fact]
    public async Task ReadAsync_CanceledToken_Throws()
    {
        var sensor = new SimulatedSensor();

        var act = async () => await sensor.ReadAsync(new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    private static (double, double, double) Values(AmbientReading r) => (r.Temperature, r.Humidity, r.Pressure);

    private static async Task<List<AmbientReading>> ReadManyAsync(SimulatedSensor sensor, int count)
    {
        var readings = new List<AmbientReading>(count);
        for (var i = 0; i < count; i++)
        {
            readings.Add(await sensor.ReadAsync(Ct));
        }

        return readings;
    }

    private static double Correlation(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        var cov = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my));
        var sx = Math.Sqrt(x.Sum(v => (v - mx) * (v - mx)));
        var sy = Math.Sqrt(y.Sum(v => (v - my) * (v - my)));
        return cov / (sx * sy);
    }
}
