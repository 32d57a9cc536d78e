namespace AmbientMqtt.Sensors;

/// <summary>
/// The coefficient of the BME280's IIR filter, which smooths temperature and pressure (not humidity) against short
/// disturbances such as a slammed door or a gust of wind.
/// </summary>
/// <remarks>
/// The numeric values are the register encodings (<c>filter</c> in <c>config</c>, 0xF5). The filter works across
/// measurements, so with a coefficient above <see cref="Off"/> a single forced measurement only moves part of the way
/// towards a step change.
/// </remarks>
public enum Bme280Filter
{
    /// <summary>No filtering: every reading is the measurement just taken.</summary>
    Off = 0,

    /// <summary>Filter coefficient 2.</summary>
    X2 = 1,

    /// <summary>Filter coefficient 4.</summary>
    X4 = 2,

    /// <summary>Filter coefficient 8.</summary>
    X8 = 3,

    /// <summary>Filter coefficient 16.</summary>
    X16 = 4,
}
