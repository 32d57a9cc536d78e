namespace AmbientMqtt.Sensors;

/// <summary>Register addresses and bit fields of the BME280 (datasheet BST-BME280-DS002, section 5).</summary>
internal static class Bme280Registers
{
    public const byte CalibrationTemperaturePressure = 0x88;
    public const int CalibrationTemperaturePressureLength = 26;
    public const byte ChipId = 0xD0;
    public const byte Reset = 0xE0;
    public const byte CalibrationHumidity = 0xE1;
    public const int CalibrationHumidityLength = 7;
    public const byte CtrlHum = 0xF2;
    public const byte Status = 0xF3;
    public const byte CtrlMeas = 0xF4;
    public const byte Config = 0xF5;
    public const byte Data = 0xF7;
    public const int DataLength = 8;

    public const byte ResetCommand = 0xB6;

    /// <summary>Status bit 3: a conversion is running.</summary>
    public const byte StatusMeasuring = 0x08;

    /// <summary>Status bit 0: the NVM calibration data is being copied into the image registers.</summary>
    public const byte StatusImUpdate = 0x01;

    public const byte ModeSleep = 0b00;
    public const byte ModeForced = 0b01;
    public const byte ModeMask = 0b11;

    public const byte ChipIdBme280 = 0x60;

    public static bool IsBmp280ChipId(byte chipId) => chipId is 0x56 or 0x57 or 0x58;
}
