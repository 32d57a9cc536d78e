[assembly: AssemblyFixture(typeof(AmbientMqtt.IntegrationTests.Infrastructure.MqttServer))]

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// The broker the tests share: the one <c>./test.sh</c> started (<c>AMBIENT_TEST_MQTT=host:port</c>), else a private
/// mosquitto started here when one is installed. Without either, tests skip with the reason, except under
/// <c>CI=true</c>, where a missing server is a failure.
/// </summary>
public sealed class MqttServer : IAsyncLifetime
{
    private PrivateMosquitto? _own;

    public string Host { get; private set; } = "127.0.0.1";

    public int Port { get; private set; }

    public string? Unavailable { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("AMBIENT_TEST_MQTT");
        if (!string.IsNullOrEmpty(configured))
        {
            var colon = configured.LastIndexOf(':');
            Host = configured[..colon];
            Port = int.Parse(configured[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            return;
        }

        if (PrivateMosquitto.FindBinary() is null)
        {
            Unavailable = "no MQTT broker: set AMBIENT_TEST_MQTT=host:port or install mosquitto (./test.sh does both)";
            if (IsCi)
            {
                throw new InvalidOperationException(Unavailable);
            }

            return;
        }

        _own = await PrivateMosquitto.StartNewAsync();
        Host = _own.Host;
        Port = _own.Port;
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the calling test when there is no broker (never under CI).</summary>
    public void RequireAvailable()
    {
        if (Unavailable is not null)
        {
            Assert.Skip(Unavailable);
        }
    }

    /// <summary>Starts a broker of the test's own, for tests that stop or restart it; skips when mosquitto is missing.</summary>
    public static async Task<PrivateMosquitto> StartPrivateAsync(string? listenerOptions = null, MosquittoSettings settings = MosquittoSettings.Shipped, string? extraLines = null)
    {
        if (PrivateMosquitto.FindBinary() is null)
        {
            if (IsCi)
            {
                throw new InvalidOperationException("mosquitto is not installed");
            }

            Assert.Skip("mosquitto is not installed (./test.sh installs it)");
        }

        return await PrivateMosquitto.StartNewAsync(listenerOptions, settings, extraLines);
    }

    public async ValueTask DisposeAsync()
    {
        if (_own is not null)
        {
            await _own.DisposeAsync();
        }
    }
}
