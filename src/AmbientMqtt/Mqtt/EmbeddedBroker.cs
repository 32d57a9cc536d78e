using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Server;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// An MQTT broker inside the program (MQTTnet.Server), for a machine without mosquitto: it listens on 127.0.0.1 only,
/// keeps persistent sessions (a subscriber that reconnects gets what it missed, as long as the program runs), and holds
/// up to <see cref="EmbeddedBrokerOptions.MaxPendingMessagesPerClient"/> messages for a subscriber that lags behind.
/// </summary>
/// <remarks>
/// <para>Sessions and queued messages live in memory: what the broker holds when the program stops is gone. Stop the
/// publishers first and let the subscriber catch up before disposing the broker.</para>
/// <para>Differences from mosquitto that matter here: MQTTnet.Server refuses shared subscriptions
/// (<c>$share/…</c>, so <see cref="MqttSubscriberOptions.Connections"/> must stay 1), and it ignores the subscriber's Receive
/// Maximum: a connected subscriber is sent every message at once, and MQTTnet's client keeps what its reader has not
/// taken in memory, so the subscriber's memory, not the broker's limit, grows when its database is slow.</para>
/// </remarks>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly EmbeddedBrokerOptions _options;
    private readonly ILogger _logger;
    private MqttServer? _server;
    private long _dropped;
    private long _lastDropLog = long.MinValue;
    private bool _disposed;

    /// <summary>Initializes a broker; call <see cref="StartAsync"/> to listen.</summary>
    /// <param name="options">The port and queue limit; defaults when omitted.</param>
    /// <param name="logger">Where the start, the stop and dropped messages are logged.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public EmbeddedBroker(EmbeddedBrokerOptions? options = null, ILogger<EmbeddedBroker>? logger = null)
    {
        _options = options ?? new EmbeddedBrokerOptions();
        OptionsCheck.ThrowIfInvalid(EmbeddedBrokerOptionsValidator.Instance, _options);

        _logger = (ILogger?)logger ?? NullLogger.Instance;

        // Port 0 is settled now, not at start: the clients of the same program are configured before it starts.
        Port = _options.Port == 0 ? FreePort() : _options.Port;
    }

    /// <summary>Gets the address the broker listens on: always the IPv4 loopback.</summary>
    public string Host { get; } = "127.0.0.1";

    /// <summary>Gets the TCP port: the configured one, or, once started on port 0, the one the system picked.</summary>
    public int Port { get; private set; }

    /// <summary>Gets the broker as <c>127.0.0.1:port</c>.</summary>
    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    /// <summary>Gets a value indicating whether the broker is listening.</summary>
    public bool IsRunning => _server?.IsStarted == true;

    /// <summary>Gets the number of messages dropped because a subscriber already had
    /// <see cref="EmbeddedBrokerOptions.MaxPendingMessagesPerClient"/> waiting.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Starts listening on 127.0.0.1.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the broker accepts connections.</returns>
    /// <exception cref="EmbeddedBrokerException">The port is in use, or may not be used; the message says which port
    /// and how to choose another.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (_server is not null)
        {
            return;
        }

        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)

            // Unset, MQTTnet also listens on IPv6Any, which would open the broker to the network.
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(Port)
            .WithPersistentSessions()

            // MQTTnet keeps 1000 messages per subscriber by default and then drops the oldest: a subscriber away for
            // 1000 readings, or one that reads slower than they come, would lose readings. Raised far above that.
            .WithMaxPendingMessagesPerClient(_options.MaxPendingMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(serverOptions);
        server.QueuedApplicationMessageOverwrittenAsync += OnDroppedAsync;
        server.ValidatingConnectionAsync += AssignClientId;
        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            server.Dispose();
            throw new EmbeddedBrokerException(Describe(Port, ex), ex);
        }

        _server = server;
        Log.EmbeddedBrokerStarted(_logger, Endpoint, _options.MaxPendingMessagesPerClient);
    }

    /// <summary>Disconnects every client and stops listening. Sessions and messages held are lost.</summary>
    /// <returns>A task that completes when the broker has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var server = _server;
        _server = null;
        if (server is null)
        {
            return;
        }

        try
        {
            await server.StopAsync(new MqttServerStopOptionsBuilder().Build()).ConfigureAwait(false);
        }
        finally
        {
            server.QueuedApplicationMessageOverwrittenAsync -= OnDroppedAsync;
            server.Dispose();
        }

        Log.EmbeddedBrokerStopped(_logger, Endpoint);
    }

    /// <summary>Gives a client that sent no client id one of its own, as mosquitto does: the tutorial's
    /// <c>mosquitto_sub</c> and <c>mosquitto_pub</c> send none unless given <c>-i</c>.</summary>
    private static Task AssignClientId(ValidatingConnectionEventArgs e)
    {
        if (string.IsNullOrEmpty(e.ClientId))
        {
            e.AssignedClientIdentifier = "auto-" + Guid.NewGuid().ToString("N");
        }

        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Describe(int port, SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse =>
            $"port {port} is in use (is mosquitto running?); choose another with --Mqtt:Port=… or 0 for a free one",
        SocketError.AccessDenied =>
            $"port {port} may not be used by this user (ports below 1024 need root); choose another with --Mqtt:Port=… or 0 for a free one",
        _ => $"cannot listen on 127.0.0.1:{port}: {ex.Message}; choose another port with --Mqtt:Port=… or 0 for a free one",
    };

    private Task OnDroppedAsync(QueueMessageOverwrittenEventArgs e)
    {
        var dropped = Interlocked.Increment(ref _dropped);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastDropLog);
        if (dropped == 1 || now - last >= 5000)
        {
            Interlocked.Exchange(ref _lastDropLog, now);
            Log.EmbeddedBrokerDropped(_logger, e.ReceiverClientId, _options.MaxPendingMessagesPerClient, dropped);
        }

        return Task.CompletedTask;
    }
}
