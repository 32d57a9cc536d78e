using System.Text.Json;
using AmbientMqtt.Sensors;

namespace AmbientMqtt.Tests.Sensors;

/// <summary>The reference vectors in <c>testdata/bme280/vectors.json</c> (see the README next to it).</summary>
internal static class Bme280Vectors
{
    private static readonly Lazy<IReadOnlyDictionary<string, Bme280Vector>> Vectors = new(Load);

    public static IReadOnlyDictionary<string, Bme280Vector> All => Vectors.Value;

    public static Bme280Vector Get(string id) => All[id];

    private static IReadOnlyDictionary<string, Bme280Vector> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "bme280", "vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var vectors = new Dictionary<string, Bme280Vector>(StringComparer.Ordinal);
        foreach (var v in document.RootElement.GetProperty("vectors").EnumerateArray())
        {
            var registers = v.GetProperty("registers");
            var coefficients = v.GetProperty("coefficients");
            var adc = v.GetProperty("adc");
            var expected = v.GetProperty("expected");
            var id = v.GetProperty("id").GetString()!;
            vectors.Add(id, new Bme280Vector(
                id,
                Convert.FromHexString(registers.GetProperty("calib_0x88_0xa1").GetString()!),
                Convert.FromHexString(registers.GetProperty("calib_0xe1_0xe7").GetString()!),
                Convert.FromHexString(registers.GetProperty("data_0xf7_0xfe").GetString()!),
                Calibration(coefficients),
                new Bme280AdcValues(
                    adc.GetProperty("adc_T").GetInt32(),
                    adc.GetProperty("adc_P").GetInt32(),
                    adc.GetProperty("adc_H").GetInt32()),
                Expected(expected.GetProperty("sensorapi_double")),
                Expected(expected.GetProperty("datasheet_double"))));
        }

        return vectors;
    }

    // Checked conversions: a coefficient outside its C type's range (such as the dig_H5 = 131075 of a known parser bug)
    // fails loudly instead of wrapping.
    private static Bme280Calibration Calibration(JsonElement c)
    {
        int Get(string name) => c.GetProperty(name).GetInt32();
        return checked(new Bme280Calibration(
            DigT1: (ushort)Get("dig_T1"),
            DigT2: (short)Get("dig_T2"),
            DigT3: (short)Get("dig_T3"),
            DigP1: (ushort)Get("dig_P1"),
            DigP2: (short)Get("dig_P2"),
            DigP3: (short)Get("dig_P3"),
            DigP4: (short)Get("dig_P4"),
            DigP5: (short)Get("dig_P5"),
            DigP6: (short)Get("dig_P6"),
            DigP7: (short)Get("dig_P7"),
            DigP8: (short)Get("dig_P8"),
            DigP9: (short)Get("dig_P9"),
            DigH1: (byte)Get("dig_H1"),
            DigH2: (short)Get("dig_H2"),
            DigH3: (byte)Get("dig_H3"),
            DigH4: (short)Get("dig_H4"),
            DigH5: (short)Get("dig_H5"),
            DigH6: (sbyte)Get("dig_H6")));
    }

    private static Bme280Expected Expected(JsonElement e) => new(
        e.GetProperty("t_fine").GetInt32(),
        e.GetProperty("temperature_c").GetDouble(),
        e.GetProperty("pressure_pa").GetDouble(),
        e.GetProperty("humidity_rh").GetDouble());
}

internal sealed record Bme280Vector(
    string Id,
    byte[] Calibration88,
    byte[] CalibrationE1,
    byte[] Data,
    Bme280Calibration Coefficients,
    Bme280AdcValues Adc,
    Bme280Expected SensorApiDouble,
    Bme280Expected DatasheetDouble)
{
    /// <summary>A simulated BME280 holding this vector's registers, as the README's "How to use" sets up the bus.</summary>
    public SimulatedI2cDevice CreateDevice(int busId = 1, int address = 0x76)
    {
        var device = new SimulatedI2cDevice(busId, address);
        device.SetRegisters(0x88, Calibration88);
        device.SetRegisters(0xE1, CalibrationE1);
        device.SetRegisters(0xF7, Data);
        device[0xD0] = 0x60;
        return device;
    }
}

internal sealed record Bme280Expected(int TFine, double TemperatureC, double PressurePa, double HumidityRh);
