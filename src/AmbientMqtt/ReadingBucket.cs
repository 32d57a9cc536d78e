namespace AmbientMqtt;

/// <summary>The rows of one node within one bucket of time, summarised.</summary>
/// <param name="Start">The start of the bucket's span, with the zone's offset at that instant (the first bucket may
/// start before the range asked for; only rows inside the range count).</param>
/// <param name="Identifier">The node.</param>
/// <param name="Count">How many rows the bucket holds (at least one).</param>
/// <param name="Temperature">Temperature in °C, or <see langword="null"/> when every row's value is NULL.</param>
/// <param name="Humidity">Relative humidity in %RH, or <see langword="null"/>.</param>
/// <param name="Pressure">Pressure in hPa, or <see langword="null"/>.</param>
public readonly record struct ReadingBucket(
    DateTimeOffset Start,
    string Identifier,
    long Count,
    QuantitySummary? Temperature,
    QuantitySummary? Humidity,
    QuantitySummary? Pressure);
