namespace AmbientMqtt.Sensors;

/// <summary>
/// How many samples the BME280 averages for one measurement of a quantity. More samples mean less noise and a longer
/// measurement (about 2 ms per sample).
/// </summary>
/// <remarks>The numeric values are the register encodings (<c>osrs_t</c>, <c>osrs_p</c>, <c>osrs_h</c>).</remarks>
public enum Bme280Oversampling
{
    /// <summary>The quantity is not measured. <see cref="Bme280Sensor"/> rejects it, because every reading carries all three values.</summary>
    Skip = 0,

    /// <summary>One sample (16-bit resolution).</summary>
    X1 = 1,

    /// <summary>Two samples (17-bit resolution).</summary>
    X2 = 2,

    /// <summary>Four samples (18-bit resolution).</summary>
    X4 = 3,

    /// <summary>Eight samples (19-bit resolution).</summary>
    X8 = 4,

    /// <summary>Sixteen samples (20-bit resolution).</summary>
    X16 = 5,
}
