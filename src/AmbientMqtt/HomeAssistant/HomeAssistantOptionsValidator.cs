using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Options;

namespace AmbientMqtt.HomeAssistant;

/// <summary>Checks <see cref="HomeAssistantOptions"/>; each problem names its configuration key.</summary>
internal sealed class HomeAssistantOptionsValidator : IValidateOptions<HomeAssistantOptions>
{
    public const string Section = "HomeAssistant";

    public static readonly HomeAssistantOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, HomeAssistantOptions options)
    {
        var errors = new List<string>();
        var prefix = options.DiscoveryPrefix;
        if (MqttTopics.Check(prefix, forSubscriber: false) is { } problem)
        {
            errors.Add($"{Section}:DiscoveryPrefix: {problem}");
        }
        else if (prefix.Contains(MqttConnectionOptions.IdentifierPlaceholder, StringComparison.Ordinal) || prefix.StartsWith('/') || prefix.EndsWith('/'))
        {
            errors.Add($"{Section}:DiscoveryPrefix: '{prefix}' must be topic levels without a leading or trailing '/' or a placeholder (Home Assistant's default is homeassistant)");
        }

        return OptionsCheck.Result(errors);
    }
}
