using Microsoft.Extensions.Options;

namespace AmbientMqtt.Sensors;

/// <summary>Checks <see cref="SensorOptions"/> and <see cref="Bme280Options"/> (both bound to <c>Sensor</c>); each
/// problem names its configuration key.</summary>
internal sealed class SensorOptionsValidator : IValidateOptions<SensorOptions>, IValidateOptions<Bme280Options>
{
    public const string Section = "Sensor";

    public static readonly SensorOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, SensorOptions options)
    {
        var errors = new List<string>();
        if (!string.Equals(options.Kind, SensorOptions.Bme280, StringComparison.OrdinalIgnoreCase) && !string.Equals(options.Kind, SensorOptions.Simulated, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{Section}:Kind: must be '{SensorOptions.Bme280}' or '{SensorOptions.Simulated}' (got '{options.Kind}')");
        }

        if (options.BusId < 0)
        {
            errors.Add($"{Section}:BusId: must be 0 or more (got {options.BusId})");
        }

        if (!Bme280Settings.IsAddress(options.Address))
        {
            errors.Add($"{Section}:Address: a BME280 answers at 0x76 or 0x77 (got 0x{options.Address:x2})");
        }

        Offset(errors, nameof(options.TemperatureOffset), options.TemperatureOffset, 50, "°C");
        Offset(errors, nameof(options.HumidityOffset), options.HumidityOffset, 50, "%RH");
        Offset(errors, nameof(options.PressureOffset), options.PressureOffset, 100, "hPa");
        return OptionsCheck.Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, Bme280Options options)
    {
        var errors = new List<string>();
        Oversampling(errors, options.TemperatureOversampling, nameof(Bme280Options.TemperatureOversampling));
        Oversampling(errors, options.PressureOversampling, nameof(Bme280Options.PressureOversampling));
        Oversampling(errors, options.HumidityOversampling, nameof(Bme280Options.HumidityOversampling));
        if (!Enum.IsDefined(options.Filter))
        {
            errors.Add($"{Section}:Filter: must be one of {string.Join(", ", Enum.GetNames<Bme280Filter>())} (got {(int)options.Filter})");
        }

        if (options.MeasurementTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{Section}:MeasurementTimeout: must be positive (got {options.MeasurementTimeout})");
        }

        if (!Bme280Settings.IsAddress(options.Address))
        {
            errors.Add($"{Section}:Address: a BME280 answers at 0x76 or 0x77 (got 0x{options.Address:x2})");
        }

        return OptionsCheck.Result(errors);
    }

    private static void Offset(List<string> errors, string key, double value, double limit, string unit)
    {
        if (!double.IsFinite(value) || Math.Abs(value) > limit)
        {
            errors.Add($"{Section}:{key}: must be a number between -{limit} and {limit} {unit} (got {value})");
        }
    }

    private static void Oversampling(List<string> errors, Bme280Oversampling value, string key)
    {
        // A skipped quantity reads as the reset value 0x80000/0x8000, which compensates to a plausible-looking but
        // meaningless number; and without temperature there is no t_fine for the other two.
        if (value == Bme280Oversampling.Skip)
        {
            errors.Add($"{Section}:{key}: cannot be Skip: every reading carries temperature, humidity and pressure");
        }
        else if (!Enum.IsDefined(value))
        {
            errors.Add($"{Section}:{key}: must be one of X1, X2, X4, X8, X16 (got {(int)value})");
        }
    }
}
