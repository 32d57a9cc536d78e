namespace AmbientMqtt.Sensors;

/// <summary>
/// The double-precision compensation formulas of Bosch's BME280 SensorAPI, <c>bme280.c</c> v3.5.1
/// (<c>compensate_temperature</c>, <c>compensate_pressure</c>, <c>compensate_humidity</c> with
/// <c>BME280_DOUBLE_ENABLE</c>), including its clamping.
/// </summary>
/// <remarks>
/// The expressions keep the reference's order of operations, so the results match it to the last bit or close to it;
/// <c>testdata/bme280/vectors.json</c> holds the reference outputs.
/// </remarks>
internal static class Bme280Compensation
{
    public const double TemperatureMin = -40.0;
    public const double TemperatureMax = 85.0;
    public const double PressureMin = 30000.0;
    public const double PressureMax = 110000.0;
    public const double HumidityMin = 0.0;
    public const double HumidityMax = 100.0;

    public static Bme280Compensated Compensate(Bme280AdcValues adc, Bme280Calibration calibration)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var temperature = Temperature(adc.AdcT, calibration, out var tFine);
        return new Bme280Compensated(
            tFine,
            temperature,
            Pressure(adc.AdcP, tFine, calibration),
            Humidity(adc.AdcH, tFine, calibration));
    }

    /// <summary>Temperature in °C, clamped to [-40, 85]; <paramref name="tFine"/> is truncated to an integer but not clamped.</summary>
    public static double Temperature(int adcT, Bme280Calibration calibration, out int tFine)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var var1 = (adcT / 16384.0) - (calibration.DigT1 / 1024.0);
        var1 *= calibration.DigT2;
        var var2 = (adcT / 131072.0) - (calibration.DigT1 / 8192.0);
        var2 = var2 * var2 * calibration.DigT3;

        // The reference casts to int32 before pressure and humidity use it; keeping the fraction would move pressure
        // by a few hundredths of a pascal.
        tFine = (int)(var1 + var2);
        return Math.Clamp((var1 + var2) / 5120.0, TemperatureMin, TemperatureMax);
    }

    /// <summary>Pressure in Pa, clamped to [30000, 110000].</summary>
    public static double Pressure(int adcP, int tFine, Bme280Calibration calibration)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var var1 = (tFine / 2.0) - 64000.0;
        var var2 = var1 * var1 * calibration.DigP6 / 32768.0;
        var2 += var1 * calibration.DigP5 * 2.0;
        var2 = (var2 / 4.0) + (calibration.DigP4 * 65536.0);
        var var3 = calibration.DigP3 * var1 * var1 / 524288.0;
        var1 = (var3 + (calibration.DigP2 * var1)) / 524288.0;
        var1 = (1.0 + (var1 / 32768.0)) * calibration.DigP1;

        // Only an erased or corrupt calibration gets here (dig_P1 = 0); the reference reports the minimum rather than
        // divide by zero.
        if (var1 <= 0.0)
        {
            return PressureMin;
        }

        var pressure = 1048576.0 - adcP;
        pressure = (pressure - (var2 / 4096.0)) * 6250.0 / var1;
        var1 = calibration.DigP9 * pressure * pressure / 2147483648.0;
        var2 = pressure * calibration.DigP8 / 32768.0;
        pressure += (var1 + var2 + calibration.DigP7) / 16.0;
        return Math.Clamp(pressure, PressureMin, PressureMax);
    }

    /// <summary>Relative humidity in %RH, clamped to [0, 100].</summary>
    public static double Humidity(int adcH, int tFine, Bme280Calibration calibration)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var var1 = tFine - 76800.0;
        var var2 = (calibration.DigH4 * 64.0) + (calibration.DigH5 / 16384.0 * var1);
        var var3 = adcH - var2;
        var var4 = calibration.DigH2 / 65536.0;

        // v3.5.1 multiplies by var5 twice: once inside var6 (as the datasheet does) and once more outside. The datasheet
        // formula has it only inside, so the two differ whenever dig_H3 is not zero. We follow v3.5.1.
        var var5 = 1.0 + (calibration.DigH3 / 67108864.0 * var1);
        var var6 = 1.0 + (calibration.DigH6 / 67108864.0 * var1 * var5);
        var6 = var3 * var4 * (var5 * var6);
        var humidity = var6 * (1.0 - (calibration.DigH1 * var6 / 524288.0));
        return Math.Clamp(humidity, HumidityMin, HumidityMax);
    }
}
