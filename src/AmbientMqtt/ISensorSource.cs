namespace AmbientMqtt;

/// <summary>
/// Something that can take an <see cref="AmbientReading"/>: a BME280 on an I2C bus, or a simulation.
/// </summary>
public interface ISensorSource
{
    /// <summary>
    /// Takes one measurement.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for the measurement.</param>
    /// <returns>The reading, stamped with the instant it was taken.</returns>
    /// <exception cref="SensorException">The sensor could not be read; the message says why and what to do.</exception>
    ValueTask<AmbientReading> ReadAsync(CancellationToken cancellationToken = default);
}
