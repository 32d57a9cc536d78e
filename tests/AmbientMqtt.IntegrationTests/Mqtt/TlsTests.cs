using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Mqtt;

/// <summary>
/// A mosquitto with TLS and a certificate authority of its own, as its TLS guides set one up: readings go through
/// encrypted (the subscriber's own decoding and back-pressure work on the decrypted bytes), and a client without the CA
/// is told what to set.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ambientmqtt-tls-").FullName;

    [Fact]
    public async Task PublisherAndSubscriber_OverTlsWithThePrivateCa_DeliverEveryReading()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync(WriteCertificates());
        var topic = $"tls/{Guid.NewGuid():N}";
        var options = new MqttSubscriberOptions
        {
            Host = "localhost",
            Port = broker.Port,
            Topic = topic,
            UseTls = true,
            CaFile = Path.Combine(_directory, "ca.crt"),
            ClientId = $"tls-sub-{Guid.NewGuid():N}",
            ReceiveMaximum = 100,
        };
        await using var subscriber = new MqttReadingSubscriber(options);
        await subscriber.StartAsync(ct);
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = "localhost",
            Port = broker.Port,
            Topic = topic,
            UseTls = true,
            CaFile = options.CaFile,
        });
        await publisher.StartAsync(ct);

        const int Count = 3000;
        var start = Instant.FromUtc(2025, 1, 1, 0, 0);
        for (var i = 0; i < Count; i++)
        {
            await publisher.PublishAsync(new AmbientReading(start + Duration.FromSeconds(i), 20, 50, 1000), ct);
        }

        // More than four times Receive Maximum: the receive gate must count the decrypted packets to let them all in.
        var received = new HashSet<Instant>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (received.Count < Count)
        {
            var message = await subscriber.Messages.ReadAsync(timeout.Token);
            AmbientPayload.TryDecode(message.Payload.Span, out var reading, out var error).Should().BeTrue(error);
            received.Add(reading.Timestamp);
            await message.AcknowledgeAsync(ct);
        }

        received.Should().BeEquivalentTo(Enumerable.Range(0, Count).Select(i => start + Duration.FromSeconds(i)));
    }

    [Fact]
    public async Task SubscriberWithoutTheCa_IsRefused_AndTheLogSaysToSetCaFile()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var broker = await MqttServer.StartPrivateAsync(WriteCertificates());
        var logger = new CapturingLogger<MqttReadingSubscriber>();
        await using var subscriber = new MqttReadingSubscriber(
            new MqttSubscriberOptions { Host = "localhost", Port = broker.Port, UseTls = true, ClientId = $"tls-{Guid.NewGuid():N}" },
            logger);

        await subscriber.StartAsync(ct);

        subscriber.IsConnected.Should().BeFalse();
        logger.Entries.Select(e => e.Message).Should().Contain(m => m.Contains("TLS with localhost:", StringComparison.Ordinal) && m.Contains("Mqtt:CaFile", StringComparison.Ordinal));
    }

    [Fact]
    public void CaFileThatIsNotACertificate_IsAConfigurationError()
    {
        var path = Path.Combine(_directory, "not-a-cert.pem");
        File.WriteAllText(path, "hello");

        var act = () => new MqttReadingSubscriber(new MqttSubscriberOptions { UseTls = true, CaFile = path });

        act.Should().Throw<ArgumentException>().WithMessage("*Mqtt:CaFile*holds no PEM certificate*");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A CA and a server certificate for localhost / 127.0.0.1 signed by it; returns mosquitto's listener lines.</summary>
    private string WriteCertificates()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=AmbientMqtt test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), [1, 2, 3, 4]);

        var caFile = Path.Combine(_directory, "ca.crt");
        var certFile = Path.Combine(_directory, "server.crt");
        var keyFile = Path.Combine(_directory, "server.key");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        File.WriteAllText(certFile, server.ExportCertificatePem());
        File.WriteAllText(keyFile, serverKey.ExportPkcs8PrivateKeyPem());
        return new StringBuilder()
            .AppendLine($"cafile {caFile}")
            .AppendLine($"certfile {certFile}")
            .AppendLine($"keyfile {keyFile}")
            .ToString();
    }
}
