namespace AmbientMqtt.Sensors;

/// <summary>
/// A sensor whose readings get fixed offsets (<c>Sensor:TemperatureOffset</c>, …) before anyone sees them, as ESPHome's
/// <c>offset</c> filters do: a BME280 soldered near a Pi's CPU reads a few degrees warm, and two nodes side by side
/// should agree. Relative humidity stays between 0 and 100 %.
/// </summary>
internal sealed class CalibratedSensor(ISensorSource inner, double temperatureOffset, double humidityOffset, double pressureOffset) : ISensorSource, IDisposable
{
    public async ValueTask<AmbientReading> ReadAsync(CancellationToken cancellationToken = default)
    {
        var reading = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        return reading with
        {
            Temperature = reading.Temperature + temperatureOffset,
            Humidity = Math.Clamp(reading.Humidity + humidityOffset, 0, 100),
            Pressure = reading.Pressure + pressureOffset,
        };
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();
}
