namespace AmbientMqtt;

/// <summary>
/// A reading as it stands in the table: local time in the configured zone, values rounded to two decimals.
/// </summary>
/// <param name="Timestamp">Wall-clock time in the configured zone, with its offset.</param>
/// <param name="Identifier">The node identifier stored with the row.</param>
/// <param name="Temperature">Temperature in °C, rounded to 2 decimals.</param>
/// <param name="Humidity">Relative humidity in %RH, rounded to 2 decimals.</param>
/// <param name="Pressure">Pressure in hPa, rounded to 2 decimals.</param>
/// <param name="Outcome">Whether the row was inserted, was already there, or was refused by the database.</param>
public readonly record struct StoredRow(
    DateTimeOffset Timestamp,
    string Identifier,
    double Temperature,
    double Humidity,
    double Pressure,
    RowOutcome Outcome);
