namespace AmbientMqtt;

/// <summary>A row of the table as the read side returns it.</summary>
/// <param name="Timestamp">The instant, with the offset of the configured zone at that instant.</param>
/// <param name="Identifier">The node the row belongs to.</param>
/// <param name="Temperature">Temperature in °C as stored (rounded to 2 decimals), or <see langword="null"/> when the column is NULL.</param>
/// <param name="Humidity">Relative humidity in %RH as stored, or <see langword="null"/>.</param>
/// <param name="Pressure">Pressure in hPa as stored, or <see langword="null"/>.</param>
public readonly record struct StoredReading(
    DateTimeOffset Timestamp,
    string Identifier,
    double? Temperature,
    double? Humidity,
    double? Pressure);
