using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// <see cref="MqttConnectionOptions"/> checked once and turned into what MQTTnet needs: the client options (TLS through
/// MQTTnet's own options, with a CA file and a client certificate read once, here), the client id, the endpoint.
/// </summary>
internal sealed class MqttSettings
{
    private readonly X509Certificate2Collection? _trustChain;
    private readonly X509Certificate2? _clientCertificate;

    private MqttSettings(MqttConnectionOptions options, string clientId)
    {
        Options = options;
        ClientId = clientId;
        Endpoint = string.Create(CultureInfo.InvariantCulture, $"{options.Host}:{options.Port}");
        Qos = (MqttQualityOfServiceLevel)options.Qos;
        if (options.UseTls && !string.IsNullOrEmpty(options.CaFile))
        {
            _trustChain = LoadCaFile(options.CaFile);
        }

        if (options.UseTls && !string.IsNullOrEmpty(options.ClientCertificate) && !string.IsNullOrEmpty(options.ClientKey))
        {
            _clientCertificate = LoadClientCertificate(options.ClientCertificate, options.ClientKey);
        }
    }

    public MqttConnectionOptions Options { get; }

    public string ClientId { get; }

    public string Endpoint { get; }

    public MqttQualityOfServiceLevel Qos { get; }

    /// <summary>Gets why the broker's certificate was last refused, in the words of what to set; <see langword="null"/>
    /// when it was accepted.</summary>
    public string? LastCertificateProblem { get; private set; }

    /// <summary>Freezes checked options.</summary>
    /// <exception cref="ArgumentException">A certificate file cannot be read; the message names the key.</exception>
    public static MqttSettings Create(MqttConnectionOptions options) =>
        new(options, options.ClientId ?? DefaultClientId(ProgramName()));

    /// <summary>A client id that stays the same across restarts of the same program on the same host.</summary>
    public static string DefaultClientId(string program)
    {
        var id = $"{program}-{Environment.MachineName}";
        return id.Length <= 200 ? id : id[..200];
    }

    public static string ProgramName()
    {
        // The executable's name, as Process.ProcessName has it, without loading System.Diagnostics.Process (a publisher
        // on a Pi Zero counts its megabytes).
        var name = Path.GetFileNameWithoutExtension(Environment.ProcessPath);
        return string.IsNullOrEmpty(name) || name == "dotnet"
            ? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "ambientmqtt"
            : name;
    }

    /// <summary>The client options of one connection.</summary>
    public MqttClientOptions BuildClientOptions(string clientId, bool cleanStart, uint sessionExpirySeconds, Action<MqttClientOptionsBuilder>? configure = null)
    {
        var o = Options;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(o.Host, o.Port)
            .WithClientId(clientId)
            .WithCleanStart(cleanStart)
            .WithSessionExpiryInterval(sessionExpirySeconds)
            .WithKeepAlivePeriod(o.KeepAlive)
            .WithTimeout(o.ConnectTimeout);
        if (o.Username is not null)
        {
            builder.WithCredentials(o.Username, o.Password ?? string.Empty);
        }

        if (o.UseTls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(o.Host);
                if (_trustChain is not null)
                {
                    // MQTTnet builds the chain against this store alone (CustomRootTrust); a self-made CA publishes no
                    // revocation list, and MQTTnet lets an unknown revocation status of the leaf pass.
                    tls.WithTrustChain(_trustChain);
                }

                if (_clientCertificate is not null)
                {
                    tls.WithClientCertificates([_clientCertificate]);
                }

                // MQTTnet's own check, and a record of why it failed, so that the log line can say what to set.
                tls.WithCertificateValidationHandler(RecordValidation);
            });
        }

        configure?.Invoke(builder);
        var options = builder.Build();

        // MQTTnet's 8 KiB socket buffers pin the TCP window; a backlog of small messages then trickles.
        if (options.ChannelOptions is MqttClientTcpOptions tcp)
        {
            tcp.BufferSize = o.SocketBufferSize;
        }

        return options;
    }

    private bool RecordValidation(MqttClientCertificateValidationEventArgs e)
    {
        var errors = e.SslPolicyErrors;
        if (errors == System.Net.Security.SslPolicyErrors.None)
        {
            LastCertificateProblem = null;
            return true;
        }

        var o = Options;
        var chain = e.Chain?.ChainStatus is { Length: > 0 } status
            ? string.Join(", ", status.Select(s => s.Status.ToString()).Distinct())
            : errors.ToString();
        LastCertificateProblem = errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch)
            ? $"the broker's certificate does not name '{o.Host}': set Mqtt:Host to a name the certificate holds ({errors})"
            : errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable)
                ? "the broker sent no certificate"
                : string.IsNullOrEmpty(o.CaFile)
                    ? $"the broker's certificate is not signed by a certificate authority this system trusts ({chain}); a broker with its own CA needs Mqtt:CaFile, the CA's PEM file"
                    : $"the broker's certificate is not signed by the CA of Mqtt:CaFile '{o.CaFile}' ({chain})";
        return false;
    }

    private static X509Certificate2Collection LoadCaFile(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"Mqtt:CaFile: cannot read '{path}': {ex.Message}", nameof(path), ex);
        }

        return certificates.Count > 0
            ? certificates
            : throw new ArgumentException($"Mqtt:CaFile: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)", nameof(path));
    }

    private static X509Certificate2 LoadClientCertificate(string certificate, string key)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ArgumentException(
                $"Mqtt:ClientCertificate: cannot load '{certificate}' with the key '{key}' (Mqtt:ClientKey): {ex.Message.TrimEnd('.')}; both must be PEM files, the key unencrypted",
                nameof(certificate),
                ex);
        }
    }
}
