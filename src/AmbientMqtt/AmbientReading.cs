using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// One measurement of the ambient air: when it was taken, and the three values a BME280 reports.
/// </summary>
/// <param name="Timestamp">The instant the measurement was taken (UTC, nanosecond resolution; the wire keeps
/// microseconds). A payload carries instants from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, the years 1
/// to 9999 in UTC (what .NET's <see cref="DateTime"/> and Python's <c>datetime</c> hold): <see cref="AmbientPayload"/>
/// refuses to encode or decode any other.</param>
/// <param name="Temperature">Temperature in degrees Celsius.</param>
/// <param name="Humidity">Relative humidity in percent (%RH).</param>
/// <param name="Pressure">Barometric pressure in hectopascals (hPa).</param>
/// <param name="Identifier">The node that took the reading, or <see langword="null"/> to let the receiver use its configured identifier.</param>
/// <param name="Sequence">The publisher's number for this reading (0 or more, one up for each reading), which lets a
/// receiver count readings that never arrived; <see langword="null"/> when the publisher does not number its readings.
/// It is the payload's optional <c>seq</c> field.</param>
public readonly record struct AmbientReading(
    Instant Timestamp,
    double Temperature,
    double Humidity,
    double Pressure,
    string? Identifier = null,
    long? Sequence = null);
