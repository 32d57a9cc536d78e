namespace AmbientMqtt.Sensors;

/// <summary>The raw (uncompensated) ADC outputs of one measurement.</summary>
/// <param name="AdcT">Temperature, 20 bit.</param>
/// <param name="AdcP">Pressure, 20 bit.</param>
/// <param name="AdcH">Humidity, 16 bit.</param>
internal readonly record struct Bme280AdcValues(int AdcT, int AdcP, int AdcH)
{
    /// <summary>Decodes the burst read of registers 0xF7..0xFE.</summary>
    public static Bme280AdcValues Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length != Bme280Registers.DataLength)
        {
            throw new ArgumentException("The data block at 0xF7 must be 8 bytes.", nameof(data));
        }

        return new Bme280AdcValues(
            AdcT: (data[3] << 12) | (data[4] << 4) | (data[5] >> 4),
            AdcP: (data[0] << 12) | (data[1] << 4) | (data[2] >> 4),
            AdcH: (data[6] << 8) | data[7]);
    }
}
