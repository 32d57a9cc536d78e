using NodaTime;

namespace AmbientMqtt.Sensors;

/// <summary>
/// A stand-in for a BME280 when there is none: readings of an indoor room that drift slowly, with a daily swing. The
/// same seed always gives the same sequence of values (bit for bit on one CPU architecture; <see cref="Math.Sin"/> and
/// <see cref="Math.Log(double)"/> may differ in the last bit between architectures).
/// </summary>
/// <remarks>
/// <para>
/// Each quantity is a mean, plus a sine with one cycle every 1440 readings (a day at one reading a minute), plus a random
/// walk pulled back towards zero (an Ornstein–Uhlenbeck process). Temperature stays within 20–27 °C, humidity within
/// 40–60 %RH (it falls as the room warms) and pressure within 1000–1015 hPa. Values keep full double precision.
/// </para>
/// <para>
/// The sequence depends only on the seed and on how many readings were taken before, not on the clock; the clock only
/// stamps the readings. Reads are thread-safe.
/// </para>
/// </remarks>
public sealed class SimulatedSensor : ISensorSource
{
    /// <summary>The number of readings in one cycle of the daily swing.</summary>
    internal const int ReadingsPerCycle = 1440;

    internal static readonly Channel TemperatureChannel = new(Mean: 23.5, Amplitude: 2.0, Spread: 0.4, Reversion: 0.01, Min: 20.0, Max: 27.0);
    internal static readonly Channel HumidityChannel = new(Mean: 50.0, Amplitude: -4.0, Spread: 1.5, Reversion: 0.01, Min: 40.0, Max: 60.0);
    internal static readonly Channel PressureChannel = new(Mean: 1007.5, Amplitude: 1.5, Spread: 1.5, Reversion: 0.005, Min: 1000.0, Max: 1015.0);

    private readonly TimeProvider _timeProvider;
    private readonly string? _identifier;
    private readonly SplitMix64 _random;
    private readonly Lock _lock = new();
    private readonly double _phase;
    private long _count;
    private double _temperature;
    private double _humidity;
    private double _pressure;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="seed">Selects the sequence; the same seed gives the same values.</param>
    /// <param name="timeProvider">The clock that stamps readings; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="identifier">The node name put on each reading, or <see langword="null"/> for none.</param>
    public SimulatedSensor(int seed = 0, TimeProvider? timeProvider = null, string? identifier = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _identifier = identifier;
        _random = new SplitMix64(unchecked((ulong)seed));

        // Different seeds start at different times of "day" and away from the mean, so two simulated nodes do not
        // report the same curve.
        _phase = _random.NextDouble();
        _temperature = TemperatureChannel.Stationary(_random);
        _humidity = HumidityChannel.Stationary(_random);
        _pressure = PressureChannel.Stationary(_random);
    }

    /// <inheritdoc/>
    public ValueTask<AmbientReading> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        double temperature, humidity, pressure;
        lock (_lock)
        {
            var cycle = Math.Sin(2.0 * Math.PI * (_phase + ((double)_count / ReadingsPerCycle)));
            temperature = TemperatureChannel.Value(_temperature, cycle);
            humidity = HumidityChannel.Value(_humidity, cycle);
            pressure = PressureChannel.Value(_pressure, cycle);

            _count++;
            _temperature = TemperatureChannel.Step(_temperature, _random);
            _humidity = HumidityChannel.Step(_humidity, _random);
            _pressure = PressureChannel.Step(_pressure, _random);
        }

        var timestamp = Instant.FromDateTimeOffset(_timeProvider.GetUtcNow());
        return ValueTask.FromResult(new AmbientReading(timestamp, temperature, humidity, pressure, _identifier));
    }

    /// <summary>One simulated quantity.</summary>
    /// <param name="Mean">The centre of the range.</param>
    /// <param name="Amplitude">The daily swing (negative: opposite to temperature).</param>
    /// <param name="Spread">The standard deviation of the random walk around the daily curve.</param>
    /// <param name="Reversion">The fraction of the deviation that decays per reading.</param>
    /// <param name="Min">The lowest value reported.</param>
    /// <param name="Max">The highest value reported.</param>
    internal sealed record Channel(double Mean, double Amplitude, double Spread, double Reversion, double Min, double Max)
    {
        // The step size that keeps the walk's long-run standard deviation at Spread.
        private double StepDeviation => Spread * Math.Sqrt(1.0 - ((1.0 - Reversion) * (1.0 - Reversion)));

        public double Stationary(SplitMix64 random) => Spread * random.NextGaussian();

        public double Step(double deviation, SplitMix64 random) =>
            (deviation * (1.0 - Reversion)) + (StepDeviation * random.NextGaussian());

        // The walk is about four standard deviations from the limits, so the clamp only catches the rare excursion.
        public double Value(double deviation, double cycle) => Math.Clamp(Mean + (Amplitude * cycle) + deviation, Min, Max);
    }
}
