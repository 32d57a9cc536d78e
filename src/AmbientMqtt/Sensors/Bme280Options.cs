namespace AmbientMqtt.Sensors;

/// <summary>
/// Settings for a <see cref="Bme280Sensor"/>. The defaults match the tutorial's <c>bme280mod</c>: address 0x76,
/// one sample each of temperature, pressure and humidity, no filter.
/// </summary>
public sealed class Bme280Options
{
    /// <summary>
    /// Gets or sets the I2C address of the sensor: 0x76 when its SDO pin is tied to ground (most breakout boards),
    /// 0x77 when it is tied to VDDIO.
    /// </summary>
    /// <value>The default value is 0x76.</value>
    /// <remarks>
    /// Internal: no sensor reads it. <see cref="Bme280Sensor.Open(int, int, Bme280Options?)"/> takes the address as an
    /// argument (<see cref="SensorOptions.Address"/>, <c>Sensor:Address</c>, in a host), and a sensor that is given an
    /// <see cref="System.Device.I2c.I2cDevice"/> talks to that device's address; a public setting here would be ignored.
    /// </remarks>
    internal int Address { get; set; } = 0x76;

    /// <summary>Gets or sets how many samples the sensor averages for temperature.</summary>
    /// <value>The default value is <see cref="Bme280Oversampling.X1"/>.</value>
    public Bme280Oversampling TemperatureOversampling { get; set; } = Bme280Oversampling.X1;

    /// <summary>Gets or sets how many samples the sensor averages for pressure.</summary>
    /// <value>The default value is <see cref="Bme280Oversampling.X1"/>.</value>
    public Bme280Oversampling PressureOversampling { get; set; } = Bme280Oversampling.X1;

    /// <summary>Gets or sets how many samples the sensor averages for humidity.</summary>
    /// <value>The default value is <see cref="Bme280Oversampling.X1"/>.</value>
    public Bme280Oversampling HumidityOversampling { get; set; } = Bme280Oversampling.X1;

    /// <summary>Gets or sets the IIR filter coefficient for temperature and pressure.</summary>
    /// <value>The default value is <see cref="Bme280Filter.Off"/>.</value>
    public Bme280Filter Filter { get; set; } = Bme280Filter.Off;

    /// <summary>
    /// Gets or sets how long a measurement may take, from triggering it to the sensor reporting it done, before the read
    /// fails with a <see cref="SensorException"/>. The slowest setting (16 samples of each quantity) needs about 113 ms.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan MeasurementTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
