using Microsoft.Extensions.Options;

namespace AmbientMqtt.Storage;

/// <summary>Checks <see cref="SqliteRepositoryOptions"/>; each problem names its configuration key.</summary>
internal sealed class SqliteRepositoryOptionsValidator : IValidateOptions<SqliteRepositoryOptions>
{
    public static readonly SqliteRepositoryOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, SqliteRepositoryOptions options)
    {
        const string section = "Database";
        var errors = new List<string>();
        if (options.Path is { } path)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                errors.Add($"{section}:Path: is empty; leave it out for {SqliteRepositoryOptions.DefaultPath}");
            }
            else if (path.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar))
            {
                errors.Add($"{section}:Path: '{path}' is not a file path");
            }
        }

        TableOptionsValidation.Validate(errors, section, options.Table, options.TimeZone, options.Identifier, options.MaxRejectedPayloadBytes);
        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            errors.Add($"{section}:BusyTimeout: must be between 00:00:00 and 24.20:31:23 (got {options.BusyTimeout})");
        }

        return OptionsCheck.Result(errors);
    }
}
