using AmbientMqtt.Ingest;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Sensors;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AmbientMqtt.Hosting;

/// <summary>
/// Runs each options type's own checks (<see cref="MqttOptions.Validate"/>, …) when the host starts, so a bad value
/// stops it with an <see cref="OptionsValidationException"/> whose message names the key:
/// <c>Mqtt:Port: must be between 1 and 65535 (got 0)</c>. Several problems are joined with <c>"; "</c>.
/// </summary>
internal sealed class AmbientOptionsValidator :
    IValidateOptions<MqttOptions>,
    IValidateOptions<SensorOptions>,
    IValidateOptions<Bme280Options>,
    IValidateOptions<PublishOptions>,
    IValidateOptions<MariaDbRepositoryOptions>,
    IValidateOptions<MariaDbConnectionOptions>,
    IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, SensorOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, PublishOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, MariaDbRepositoryOptions options) => Result(options.Validate());

    public ValidateOptionsResult Validate(string? name, Bme280Options options)
    {
        var errors = new List<string>();
        Oversampling(options.TemperatureOversampling, nameof(Bme280Options.TemperatureOversampling), errors);
        Oversampling(options.PressureOversampling, nameof(Bme280Options.PressureOversampling), errors);
        Oversampling(options.HumidityOversampling, nameof(Bme280Options.HumidityOversampling), errors);
        if (!Enum.IsDefined(options.Filter))
        {
            errors.Add($"Sensor:Filter: must be one of {string.Join(", ", Enum.GetNames<Bme280Filter>())} (got {(int)options.Filter})");
        }

        if (options.MeasurementTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Sensor:MeasurementTimeout: must be positive (got {options.MeasurementTimeout})");
        }

        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, MariaDbConnectionOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail("Database:ConnectionString: is empty; set it to the MariaDB server, database, user and password (Server=…;Database=…;User ID=…;Password=…)");
        }

        try
        {
            _ = new MySqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            // MySqlConnector names the keyword it cannot take, never the password.
            return ValidateOptionsResult.Fail($"Database:ConnectionString: {ex.Message}");
        }

        return ValidateOptionsResult.Success;
    }

    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var errors = new List<string>();
        if (options.MaxBatchSize < 1)
        {
            errors.Add($"Ingest:MaxBatchSize: must be at least 1 (got {options.MaxBatchSize})");
        }

        if (options.MaxPayloadBytes < 256)
        {
            errors.Add($"Ingest:MaxPayloadBytes: must be at least 256 (got {options.MaxPayloadBytes})");
        }

        if (options.RetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"Ingest:RetryDelay: must be positive (got {options.RetryDelay})");
        }

        if (options.MaxRetryDelay < options.RetryDelay)
        {
            errors.Add("Ingest:MaxRetryDelay: must not be shorter than Ingest:RetryDelay");
        }

        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            errors.Add($"Ingest:ShutdownTimeout: must not be negative (got {options.ShutdownTimeout})");
        }

        return Result(errors);
    }

    private static void Oversampling(Bme280Oversampling value, string key, List<string> errors)
    {
        if (value == Bme280Oversampling.Skip)
        {
            errors.Add($"Sensor:{key}: cannot be Skip: every reading carries temperature, humidity and pressure");
        }
        else if (!Enum.IsDefined(value))
        {
            errors.Add($"Sensor:{key}: must be one of X1, X2, X4, X8, X16 (got {(int)value})");
        }
    }

    private static ValidateOptionsResult Result(IReadOnlyList<string> errors)
        => errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
