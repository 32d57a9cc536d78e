using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Connects MQTTnet's TCP channel through a <see cref="MqttConnectionStream"/>: the socket with large kernel buffers,
/// TLS (when <see cref="MqttOptions.UseTls"/>) directly on the socket, and the buffering, acknowledging stream on top, so
/// that the stream always sees MQTT packets in the clear.
/// </summary>
internal sealed class MqttConnectionStreamProvider : IMqttClientStreamProvider
{
    private readonly MqttOptions _options;
    private readonly ReceiveGate? _receiveGate;
    private readonly IPublishSink? _sink;
    private readonly X509Certificate2Collection? _trustedRoots;

    /// <exception cref="ArgumentException"><see cref="MqttOptions.CaFile"/> holds no readable certificate.</exception>
    public MqttConnectionStreamProvider(MqttOptions options, ReceiveGate? receiveGate, IPublishSink? sink)
    {
        _options = options;
        _receiveGate = receiveGate;
        _sink = sink;
        if (options.UseTls && !string.IsNullOrEmpty(options.CaFile))
        {
            _trustedRoots = LoadCertificates(options.CaFile);
        }
    }

    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveBufferSize = _options.SocketBufferSize,
            SendBufferSize = _options.SocketBufferSize,
        };
        Stream? transport = null;
        try
        {
            // Connected and authenticated with blocking calls, off the caller's thread. A subscriber connection is then
            // only ever used with blocking calls (its receive thread reads, acknowledgements are written), so its socket
            // stays in blocking mode: on Linux a socket that has seen one asynchronous call turns non-blocking for good,
            // and every blocking call then goes through the event loop. A publisher's connection, read asynchronously by
            // MQTTnet, turns non-blocking at its first read, which is all it needs.
            transport = await Task.Run(
                () =>
                {
                    using var abort = cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket);
                    socket.Connect(brokerEndPoint);
                    Stream stream = new NetworkStream(socket, ownsSocket: true);
                    if (_options.UseTls)
                    {
                        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                        stream = tls;
                        tls.AuthenticateAsClient(TlsOptions());
                    }

                    return stream;
                },
                cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();

            _receiveGate?.NewEpoch();
            return new MqttConnectionStream(transport, socket, _receiveGate, _sink);
        }
        catch (System.Security.Authentication.AuthenticationException ex)
        {
            DisposeQuietly(transport, socket);
            throw new IOException(DescribeTlsFailure(ex), ex);
        }
        catch
        {
            DisposeQuietly(transport, socket);
            throw;
        }
    }

    private SslClientAuthenticationOptions TlsOptions() => new()
    {
        TargetHost = _options.Host,
        RemoteCertificateValidationCallback = _trustedRoots is null ? null : ValidateAgainstCaFile,
    };

    private static void DisposeQuietly(Stream? transport, Socket socket)
    {
        transport?.Dispose();
        socket.Dispose();
    }

    private static X509Certificate2Collection LoadCertificates(string path)
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

        if (certificates.Count == 0)
        {
            throw new ArgumentException($"Mqtt:CaFile: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)", nameof(path));
        }

        return certificates;
    }

    private string DescribeTlsFailure(System.Security.Authentication.AuthenticationException ex)
        => $"TLS with {_options.Host}:{_options.Port} failed: {ex.Message}"
            + (_trustedRoots is null
                ? " (a broker with its own certificate authority needs Mqtt:CaFile, the CA's PEM file)"
                : $" (checked against Mqtt:CaFile '{_options.CaFile}')");

    private bool ValidateAgainstCaFile(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trustedRoots!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}
