using Microsoft.Extensions.Options;

namespace AmbientMqtt.Storage;

/// <summary>Checks <see cref="MariaDbRepositoryOptions"/>; each problem names its configuration key.</summary>
internal sealed class MariaDbRepositoryOptionsValidator : IValidateOptions<MariaDbRepositoryOptions>
{
    public static readonly MariaDbRepositoryOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, MariaDbRepositoryOptions options)
    {
        var errors = new List<string>();
        TableOptionsValidation.Validate(errors, "Database", options.Table, options.TimeZone, options.Identifier, options.MaxRejectedPayloadBytes);
        return OptionsCheck.Result(errors);
    }
}
