namespace AmbientMqtt.Sensors;

/// <summary>
/// Which sensor to read. Bound to the <c>Sensor</c> configuration section.
/// </summary>
public sealed class SensorOptions
{
    /// <summary>The <see cref="Kind"/> of a BME280 on an I2C bus.</summary>
    public const string Bme280 = "bme280";

    /// <summary>The <see cref="Kind"/> of the simulated sensor, for machines without hardware.</summary>
    public const string Simulated = "simulated";

    /// <summary>Gets or sets the kind of sensor: <c>bme280</c> or <c>simulated</c>.</summary>
    /// <value>The default value is <c>bme280</c>.</value>
    public string Kind { get; set; } = Bme280;

    /// <summary>Gets or sets the I2C bus number (<c>/dev/i2c-N</c>).</summary>
    /// <value>The default value is <c>1</c>, the bus on a Raspberry Pi's GPIO header.</value>
    public int BusId { get; set; } = 1;

    /// <summary>Gets or sets the BME280's I2C address: <c>0x76</c> (SDO to ground) or <c>0x77</c> (SDO to VDDIO).
    /// Configuration accepts the hexadecimal form, <c>0x76</c>.</summary>
    /// <value>The default value is <c>0x76</c>.</value>
    public int Address { get; set; } = 0x76;

    /// <summary>Gets or sets the seed of the simulated sensor: the same seed gives the same sequence of values.</summary>
    /// <value>The default value is <c>0</c>.</value>
    public int Seed { get; set; }

    /// <summary>Gets or sets what is added to every temperature before it is published: a calibration against a
    /// trusted thermometer, as ESPHome's <c>offset</c> filter (a BME280 on a Pi's header reads warm).</summary>
    /// <value>The default value is 0 °C.</value>
    public double TemperatureOffset { get; set; }

    /// <summary>Gets or sets what is added to every relative humidity before it is published; the result is kept
    /// between 0 and 100 %RH.</summary>
    /// <value>The default value is 0 %RH.</value>
    public double HumidityOffset { get; set; }

    /// <summary>Gets or sets what is added to every pressure before it is published.</summary>
    /// <value>The default value is 0 hPa.</value>
    public double PressureOffset { get; set; }
}
