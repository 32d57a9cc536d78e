using System.Device.I2c;
using System.Globalization;
using AmbientMqtt.Sensors;

namespace AmbientMqtt.Hosting;

/// <summary>Creates the <see cref="ISensorSource"/> that <see cref="SensorOptions.Kind"/> names.</summary>
internal static class SensorFactory
{
    /// <summary>A simulated sensor, or the BME280 opened (and its chip id checked) right away, so a wiring or permission
    /// problem stops the program at start-up, before it connects anywhere.</summary>
    /// <exception cref="SensorException">The BME280 cannot be opened; the message names the bus, the address, the cause,
    /// and the setting that runs the program without hardware.</exception>
    public static ISensorSource Create(SensorOptions sensor, Bme280Options bme280, TimeProvider timeProvider)
    {
        var source = Open(sensor, bme280, timeProvider);
        return sensor is { TemperatureOffset: 0, HumidityOffset: 0, PressureOffset: 0 }
            ? source
            : new CalibratedSensor(source, sensor.TemperatureOffset, sensor.HumidityOffset, sensor.PressureOffset);
    }

    private static ISensorSource Open(SensorOptions sensor, Bme280Options bme280, TimeProvider timeProvider)
    {
        if (string.Equals(sensor.Kind, SensorOptions.Simulated, StringComparison.OrdinalIgnoreCase))
        {
            return new SimulatedSensor(sensor.Seed, timeProvider);
        }

        try
        {
            return Bme280Sensor.Open(sensor.BusId, sensor.Address, bme280, I2cDevice.Create, timeProvider);
        }
        catch (SensorException ex)
        {
            throw new SensorException(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Cannot open the BME280 on I2C bus {sensor.BusId} at 0x{sensor.Address:x2}: {ex.Message} To run without hardware, set Sensor:Kind=simulated."),
                ex);
        }
    }
}
