using Microsoft.Extensions.Options;

namespace AmbientMqtt.Publishing;

/// <summary>Checks <see cref="PublishOptions"/>; each problem names its configuration key.</summary>
internal sealed class PublishOptionsValidator : IValidateOptions<PublishOptions>
{
    public const string Section = "Publish";

    public static readonly PublishOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, PublishOptions options)
    {
        var errors = new List<string>();
        if (options.Interval < TimeSpan.FromMilliseconds(10) || options.Interval > TimeSpan.FromDays(1))
        {
            errors.Add($"{Section}:Interval: must be between 00:00:00.010 and 1.00:00:00 (got {options.Interval})");
        }

        if (options.Identifier is not null && AmbientPayload.CheckIdentifier(options.Identifier) is { } problem)
        {
            errors.Add($"{Section}:Identifier: {problem.Replace("field 'identifier': ", string.Empty, StringComparison.Ordinal)}");
        }

        return OptionsCheck.Result(errors);
    }
}
