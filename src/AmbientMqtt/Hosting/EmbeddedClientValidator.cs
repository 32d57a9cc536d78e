using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Options;

namespace AmbientMqtt.Hosting;

/// <summary>What a client cannot ask of the embedded broker: another host, TLS, shared subscriptions.</summary>
internal sealed class EmbeddedClientValidator(string? configuredHost) : IValidateOptions<MqttPublisherOptions>, IValidateOptions<MqttSubscriberOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttPublisherOptions options) => OptionsCheck.Result(Common(options));

    public ValidateOptionsResult Validate(string? name, MqttSubscriberOptions options)
    {
        var errors = Common(options);
        if (options.Connections > 1 || options.SharedGroup is not null)
        {
            errors.Add($"Mqtt:{(options.SharedGroup is null ? "Connections" : "SharedGroup")}: the embedded broker has no shared subscriptions; keep Mqtt:Connections=1 and no Mqtt:SharedGroup, or use mosquitto (Mqtt:Embedded=false)");
        }

        return OptionsCheck.Result(errors);
    }

    private List<string> Common(MqttConnectionOptions options)
    {
        var errors = new List<string>();
        if (configuredHost is not null && configuredHost is not ("localhost" or "127.0.0.1"))
        {
            errors.Add($"Mqtt:Host: the embedded broker listens on 127.0.0.1 only; leave Mqtt:Host out, or set Mqtt:Embedded=false to use the broker at {configuredHost}");
        }

        if (options.UseTls)
        {
            errors.Add("Mqtt:UseTls: the embedded broker speaks plain MQTT on 127.0.0.1; set Mqtt:UseTls=false or use an external broker (Mqtt:Embedded=false)");
        }

        return errors;
    }
}
