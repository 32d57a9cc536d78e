namespace AmbientMqtt.Sensors;

/// <summary>
/// <see cref="Bme280Options"/> checked once and turned into the register values a sensor writes, so later changes to
/// the options object cannot change a running sensor.
/// </summary>
internal sealed record Bme280Settings(
    byte CtrlHum,
    byte CtrlMeasOversampling,
    byte Config,
    TimeSpan TypicalMeasurementTime,
    TimeSpan MeasurementTimeout)
{
    public static Bme280Settings From(Bme280Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateAddress(options.Address, nameof(options));
        var t = Oversampling(options.TemperatureOversampling, "temperature", nameof(options));
        var p = Oversampling(options.PressureOversampling, "pressure", nameof(options));
        var h = Oversampling(options.HumidityOversampling, "humidity", nameof(options));
        if (!Enum.IsDefined(options.Filter))
        {
            throw new ArgumentException($"Filter {options.Filter} is not a Bme280Filter value.", nameof(options));
        }

        if (options.MeasurementTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"MeasurementTimeout must be positive; it is {options.MeasurementTimeout}.", nameof(options));
        }

        return new Bme280Settings(
            CtrlHum: (byte)h,
            CtrlMeasOversampling: (byte)(((int)t << 5) | ((int)p << 2)),
            Config: (byte)((int)options.Filter << 2),
            TypicalMeasurementTime: TypicalMeasurementTimeOf(t, p, h),
            MeasurementTimeout: options.MeasurementTimeout);
    }

    public static void ValidateAddress(int address, string paramName)
    {
        if (address is not (0x76 or 0x77))
        {
            throw new ArgumentOutOfRangeException(
                paramName,
                address,
                $"A BME280 answers at 0x76 (SDO to GND) or 0x77 (SDO to VDDIO), not 0x{address:X2}.");
        }
    }

    // Datasheet appendix B, "Measurement time": 1 ms + 2 ms per temperature sample, 2 ms per pressure or humidity sample
    // plus 0.5 ms for each of those two that is enabled.
    internal static TimeSpan TypicalMeasurementTimeOf(Bme280Oversampling t, Bme280Oversampling p, Bme280Oversampling h)
    {
        var ms = 1.0 + (2.0 * Samples(t));
        ms += p == Bme280Oversampling.Skip ? 0 : (2.0 * Samples(p)) + 0.5;
        ms += h == Bme280Oversampling.Skip ? 0 : (2.0 * Samples(h)) + 0.5;
        return TimeSpan.FromMilliseconds(ms);
    }

    private static int Samples(Bme280Oversampling oversampling) =>
        oversampling == Bme280Oversampling.Skip ? 0 : 1 << ((int)oversampling - 1);

    private static Bme280Oversampling Oversampling(Bme280Oversampling value, string quantity, string paramName)
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentException($"The {quantity} oversampling {value} is not a Bme280Oversampling value.", paramName);
        }

        // A skipped quantity reads as the reset value 0x80000/0x8000, which compensates to a plausible-looking
        // but meaningless number; and without temperature there is no t_fine for the other two.
        if (value == Bme280Oversampling.Skip)
        {
            throw new ArgumentException(
                $"The {quantity} oversampling cannot be Skip: every reading carries temperature, humidity and pressure.",
                paramName);
        }

        return value;
    }
}
