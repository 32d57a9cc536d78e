using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// One measurement of the ambient air: when it was taken, and the three values a BME280 reports.
/// </summary>
/// <param name="Timestamp">The instant the measurement was taken (UTC, nanosecond resolution; the wire keeps microseconds).</param>
/// <param name="Temperature">Temperature in degrees Celsius.</param>
/// <param name="Humidity">Relative humidity in percent (%RH).</param>
/// <param name="Pressure">Barometric pressure in hectopascals (hPa).</param>
/// <param name="Identifier">The node that took the reading, or <see langword="null"/> to let the receiver use its configured identifier.</param>
/// <param name="Sequence">The publisher's number for the reading (the payload's <c>seq</c>), or <see langword="null"/>.</param>
public readonly record struct AmbientReading(
    Instant Timestamp,
    double Temperature,
    double Humidity,
    double Pressure,
    string? Identifier = null,
    long? Sequence = null);
