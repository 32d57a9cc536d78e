using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Protocol;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// <see cref="MqttOptions"/> checked once, with the cross-setting rules applied.
/// </summary>
internal sealed class MqttSettings
{
    private MqttSettings(MqttOptions options, string clientId)
    {
        Options = options;
        ClientId = clientId;
        Endpoint = string.Create(CultureInfo.InvariantCulture, $"{options.Host}:{options.Port}");
        Qos = (MqttQualityOfServiceLevel)options.Qos;
    }

    public MqttOptions Options { get; }

    public string ClientId { get; }

    public string Endpoint { get; }

    public MqttQualityOfServiceLevel Qos { get; }

    /// <summary>Validates and freezes <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">A setting is wrong; the message names the key.</exception>
    public static MqttSettings Create(MqttOptions options, string defaultClientIdPrefix)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        return new MqttSettings(options, options.ClientId ?? DefaultClientId(defaultClientIdPrefix));
    }

    /// <summary>A client id that stays the same across restarts of the same program on the same host.</summary>
    public static string DefaultClientId(string program)
    {
        var host = Environment.MachineName;
        var id = $"{program}-{host}";
        return id.Length <= 200 ? id : id[..200];
    }

    public static string ProgramName()
    {
        var name = Process.GetCurrentProcess().ProcessName;
        return string.IsNullOrEmpty(name) || name == "dotnet"
            ? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "ambientmqtt"
            : name;
    }

    public MqttClientOptions BuildClientOptions(string clientId, bool cleanStart, uint sessionExpirySeconds, ushort? receiveMaximum, ReceiveGate? receiveGate = null, IPublishSink? sink = null)
    {
        var o = Options;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(o.Host, o.Port)
            .WithClientId(clientId)
            .WithCleanStart(cleanStart)
            .WithSessionExpiryInterval(sessionExpirySeconds)
            .WithKeepAlivePeriod(o.KeepAlive)
            .WithTimeout(o.ConnectTimeout);
        if (receiveMaximum is { } max)
        {
            builder.WithReceiveMaximum(max);
        }

        if (o.Username is not null)
        {
            builder.WithCredentials(o.Username, o.Password ?? string.Empty);
        }

        // TLS is done by the stream provider, under the stream that reads and acknowledges MQTT packets.
        builder.WithStreamProvider(new MqttConnectionStreamProvider(o, receiveGate, sink));
        return builder.Build();
    }
}
