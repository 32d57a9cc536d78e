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
        OptionsCheck.ThrowIfInvalid<Bme280Options>(SensorOptionsValidator.Instance, options);
        var t = options.TemperatureOversampling;
        var p = options.PressureOversampling;
        var h = options.HumidityOversampling;
        return new Bme280Settings(
            CtrlHum: (byte)h,
            CtrlMeasOversampling: (byte)(((int)t << 5) | ((int)p << 2)),
            Config: (byte)((int)options.Filter << 2),
            TypicalMeasurementTime: TypicalMeasurementTimeOf(t, p, h),
            MeasurementTimeout: options.MeasurementTimeout);
    }

    /// <summary>Whether a BME280 can answer at <paramref name="address"/>: 0x76 (SDO to GND) or 0x77 (SDO to VDDIO).</summary>
    public static bool IsAddress(int address) => address is 0x76 or 0x77;

    public static void ValidateAddress(int address, string paramName)
    {
        if (!IsAddress(address))
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
}
