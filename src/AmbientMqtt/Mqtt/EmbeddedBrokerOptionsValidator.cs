using Microsoft.Extensions.Options;

namespace AmbientMqtt.Mqtt;

/// <summary>Checks <see cref="EmbeddedBrokerOptions"/> (bound to <c>Mqtt</c>); each problem names its configuration key.</summary>
internal sealed class EmbeddedBrokerOptionsValidator : IValidateOptions<EmbeddedBrokerOptions>
{
    public static readonly EmbeddedBrokerOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, EmbeddedBrokerOptions options)
    {
        var errors = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"Mqtt:Port: must be between 0 (a free port) and 65535 (got {options.Port})");
        }

        if (options.MaxPendingMessagesPerClient < 1)
        {
            errors.Add($"Mqtt:MaxPendingMessagesPerClient: must be at least 1 (got {options.MaxPendingMessagesPerClient})");
        }

        return OptionsCheck.Result(errors);
    }
}
