using System.Buffers.Binary;

namespace AmbientMqtt.Sensors;

/// <summary>
/// The trimming coefficients a BME280 stores in its NVM, decoded as Bosch's <c>bme280.c</c> does
/// (<c>parse_temp_press_calib_data</c>, <c>parse_humidity_calib_data</c>).
/// </summary>
internal sealed record Bme280Calibration(
    ushort DigT1,
    short DigT2,
    short DigT3,
    ushort DigP1,
    short DigP2,
    short DigP3,
    short DigP4,
    short DigP5,
    short DigP6,
    short DigP7,
    short DigP8,
    short DigP9,
    byte DigH1,
    short DigH2,
    byte DigH3,
    short DigH4,
    short DigH5,
    sbyte DigH6)
{
    /// <summary>Decodes the two calibration blocks exactly as a burst read returns them.</summary>
    /// <param name="block88">Registers 0x88..0xA1 (26 bytes).</param>
    /// <param name="blockE1">Registers 0xE1..0xE7 (7 bytes).</param>
    public static Bme280Calibration Decode(ReadOnlySpan<byte> block88, ReadOnlySpan<byte> blockE1)
    {
        if (block88.Length != Bme280Registers.CalibrationTemperaturePressureLength)
        {
            throw new ArgumentException("The block at 0x88 must be 26 bytes.", nameof(block88));
        }

        if (blockE1.Length != Bme280Registers.CalibrationHumidityLength)
        {
            throw new ArgumentException("The block at 0xE1 must be 7 bytes.", nameof(blockE1));
        }

        // 0xA0 (block88[24]) is reserved: some chips hold a non-zero byte there, so dig_H1 must come from 0xA1.
        // dig_H4 and dig_H5 are signed 12-bit values sharing the nibbles of 0xE5; the sign comes from the (int8)
        // high byte, which is where unsigned decoders go wrong.
        var e4 = (sbyte)blockE1[3];
        var e5 = blockE1[4];
        var e6 = (sbyte)blockE1[5];
        return new Bme280Calibration(
            DigT1: BinaryPrimitives.ReadUInt16LittleEndian(block88[0..]),
            DigT2: BinaryPrimitives.ReadInt16LittleEndian(block88[2..]),
            DigT3: BinaryPrimitives.ReadInt16LittleEndian(block88[4..]),
            DigP1: BinaryPrimitives.ReadUInt16LittleEndian(block88[6..]),
            DigP2: BinaryPrimitives.ReadInt16LittleEndian(block88[8..]),
            DigP3: BinaryPrimitives.ReadInt16LittleEndian(block88[10..]),
            DigP4: BinaryPrimitives.ReadInt16LittleEndian(block88[12..]),
            DigP5: BinaryPrimitives.ReadInt16LittleEndian(block88[14..]),
            DigP6: BinaryPrimitives.ReadInt16LittleEndian(block88[16..]),
            DigP7: BinaryPrimitives.ReadInt16LittleEndian(block88[18..]),
            DigP8: BinaryPrimitives.ReadInt16LittleEndian(block88[20..]),
            DigP9: BinaryPrimitives.ReadInt16LittleEndian(block88[22..]),
            DigH1: block88[25],
            DigH2: BinaryPrimitives.ReadInt16LittleEndian(blockE1[0..]),
            DigH3: blockE1[2],
            DigH4: (short)((e4 * 16) | (e5 & 0x0F)),
            DigH5: (short)((e6 * 16) | (e5 >> 4)),
            DigH6: (sbyte)blockE1[6]);
    }
}
