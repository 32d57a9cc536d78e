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

    /// <summary>Checks the settings; each problem names its configuration key.</summary>
    /// <param name="section">The configuration section the options were bound from, used in the messages.</param>
    /// <returns>The problems found; empty when the settings are usable.</returns>
    public IReadOnlyList<string> Validate(string section = "Sensor")
    {
        var errors = new List<string>();
        if (!string.Equals(Kind, Bme280, StringComparison.OrdinalIgnoreCase) && !string.Equals(Kind, Simulated, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{section}:Kind: must be '{Bme280}' or '{Simulated}' (got '{Kind}')");
        }

        if (BusId < 0)
        {
            errors.Add($"{section}:BusId: must be 0 or more (got {BusId})");
        }

        if (Address is not (0x76 or 0x77))
        {
            errors.Add($"{section}:Address: a BME280 answers at 0x76 or 0x77 (got 0x{Address:x2})");
        }

        return errors;
    }
}
