using AmbientMqtt.Sensors;

namespace AmbientMqtt.Samples;

/// <summary>The sensor a sample reads: the BME280 on its I2C bus, or the simulated one (<c>Sensor:Kind=simulated</c>).</summary>
internal static class SampleSensor
{
    /// <summary>Opens the configured sensor; prints one line and returns <see langword="null"/> when the BME280 cannot
    /// be opened.</summary>
    public static ISensorSource? Open(SensorOptions sensor, Bme280Options bme280)
    {
        if (string.Equals(sensor.Kind, SensorOptions.Simulated, StringComparison.OrdinalIgnoreCase))
        {
            return new SimulatedSensor(sensor.Seed);
        }

        try
        {
            return Bme280Sensor.Open(sensor.BusId, sensor.Address, bme280);
        }
        catch (SensorException ex)
        {
            Console.Error.WriteLine(
                $"error: cannot open the BME280 on I2C bus {sensor.BusId} at 0x{sensor.Address:x2}: {ex.Message} "
                + "(to run without hardware: --Sensor:Kind=simulated)");
            return null;
        }
    }
}
