using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// One MQTTnet client that keeps itself connected: MQTTnet 5 has no managed client, so reconnecting with backoff is ours.
/// </summary>
/// <remarks>
/// A background loop connects, runs <c>onConnected</c> (subscribe), then waits for the connection to drop and starts
/// over, doubling the delay between failed attempts up to <see cref="MqttConnectionOptions.MaxReconnectDelay"/>. Each successful
/// connection gets a new <see cref="Generation"/>, so work tied to an old connection (an acknowledgement) can tell it is
/// stale. <see cref="PauseAsync"/> disconnects, keeping the session on the broker, and holds the loop until
/// <see cref="Resume"/>: a subscriber holding too much does that rather than stop reading its socket.
/// </remarks>
internal sealed class ReconnectingMqttClient : IAsyncDisposable
{
    private readonly MqttSettings _settings;
    private readonly MqttClientOptions _clientOptions;
    private readonly Func<MqttClientConnectResult, CancellationToken, Task>? _onConnected;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly AmbientMetrics _metrics;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly object _gate = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _generation;
    private int _connections;
    private volatile bool _paused;
    private bool _disposed;
    private bool _unreachableLogged;

    public ReconnectingMqttClient(
        MqttSettings settings,
        MqttClientOptions clientOptions,
        Func<MqttClientConnectResult, CancellationToken, Task>? onConnected,
        ILogger logger,
        TimeProvider timeProvider,
        AmbientMetrics metrics)
    {
        _settings = settings;
        _clientOptions = clientOptions;
        ClientId = clientOptions.ClientId;
        _onConnected = onConnected;
        _logger = logger;
        _timeProvider = timeProvider;
        _metrics = metrics;
        Client = new MqttClientFactory().CreateMqttClient();
        Client.DisconnectedAsync += OnDisconnectedAsync;
    }

    public event EventHandler<MqttConnectedEventArgs>? Connected;

    /// <summary>Raised when the broker refused the subscription on a reconnection (on the first connection,
    /// <see cref="StartAsync"/> throws instead).</summary>
    public event EventHandler<MqttSubscriptionRefusedException>? SubscriptionRefused;

    public IMqttClient Client { get; }

    public string ClientId { get; }

    public int Generation => Volatile.Read(ref _generation);

    public bool IsConnected => Client.IsConnected;

    public CancellationToken Stopping => _stop.Token;

    /// <summary>Gets a value indicating whether the connection is held closed by <see cref="PauseAsync"/>.</summary>
    public bool IsPaused => _paused;

    /// <summary>Makes the first attempt, then leaves the loop running in the background.</summary>
    /// <exception cref="MqttConnectionException">The broker refused the credentials or the client id.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var outcome = await TryConnectAsync(cancellationToken).ConfigureAwait(false);
        if (outcome is ConnectOutcome.Refused refused)
        {
            if (refused.Exception is { } exception)
            {
                throw exception;
            }

            throw new MqttConnectionException(refused.Message);
        }

        _loop = Task.Run(() => RunAsync(outcome is ConnectOutcome.Success), CancellationToken.None);
    }

    /// <summary>Waits until the client is connected.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        Task task;
        lock (_gate)
        {
            task = _connected.Task;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>Disconnects normally, which keeps the session and its messages on the broker, and stays away until
    /// <see cref="Resume"/>.</summary>
    public async Task PauseAsync()
    {
        if (_paused || _disposed)
        {
            return;
        }

        _paused = true;
        await DisconnectQuietlyAsync().ConfigureAwait(false);
    }

    /// <summary>Lets the loop connect again after <see cref="PauseAsync"/>.</summary>
    public void Resume()
    {
        if (!_paused)
        {
            return;
        }

        _paused = false;
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Tells the loop the connection looks broken (a publish failed), so it reconnects without waiting for the keep-alive.</summary>
    public void NotifyBroken() => _wake.Release();

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (Client.IsConnected)
        {
            try
            {
                // A normal DISCONNECT keeps the session (and its unacknowledged messages) on the broker.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // Closing anyway.
            }
        }

        Client.DisconnectedAsync -= OnDisconnectedAsync;
        Client.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(bool connected)
    {
        var stop = _stop.Token;
        var delay = _settings.Options.ReconnectDelay;
        var failures = connected ? 0 : 1;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (Client.IsConnected || _paused)
                {
                    // Woken by a disconnect, a failed publish or a resume; the timeout catches anything missed.
                    await _wake.WaitAsync(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                    continue;
                }

                if (failures > 0)
                {
                    var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 100));
                    await Task.Delay(delay + jitter, _timeProvider, stop).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _settings.Options.MaxReconnectDelay.Ticks));
                }

                var outcome = await TryConnectAsync(stop).ConfigureAwait(false);
                if (outcome is ConnectOutcome.Refused { Exception: not null })
                {
                    return;
                }

                if (outcome is ConnectOutcome.Success)
                {
                    if (failures > 0)
                    {
                        Log.MqttReconnected(_logger, _settings.Endpoint, ClientId, failures);
                    }

                    failures = 0;
                    delay = _settings.Options.ReconnectDelay;
                }
                else
                {
                    failures++;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<ConnectOutcome> TryConnectAsync(CancellationToken cancellationToken)
    {
        MqttClientConnectResult result;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_settings.Options.ConnectTimeout);
            result = await Client.ConnectAsync(_clientOptions, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or System.Net.Sockets.SocketException or IOException or InvalidOperationException)
        {
            var cause = Describe(ex);
            LogUnreachable(cause);

            return new ConnectOutcome.Failed(cause);
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            var message = $"MQTT broker {_settings.Endpoint} refused client '{ClientId}': {result.ResultCode}"
                + (string.IsNullOrEmpty(result.ReasonString) ? string.Empty : $" ({result.ReasonString})")
                + Advice(result.ResultCode);
            Log.MqttRefused(_logger, message);
            return IsPermanent(result.ResultCode) ? new ConnectOutcome.Refused(message) : new ConnectOutcome.Failed(message);
        }

        var isReconnect = _connections > 0;
        _connections++;
        _metrics.Connected(isReconnect);
        Interlocked.Increment(ref _generation);
        Log.MqttConnected(_logger, _settings.Endpoint, ClientId, result.IsSessionPresent);
        if (_onConnected is not null)
        {
            try
            {
                await _onConnected(result, cancellationToken).ConfigureAwait(false);
            }
            catch (MqttSubscriptionRefusedException ex)
            {
                // A setting (the topic, the broker's ACL): retrying cannot help, and the program must say so and stop.
                Log.MqttRefused(_logger, ex.Message);
                await DisconnectQuietlyAsync().ConfigureAwait(false);
                SubscriptionRefused?.Invoke(this, ex);
                return new ConnectOutcome.Refused(ex.Message, ex);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.MqttSubscribeFailed(_logger, _settings.Endpoint, ex.Message);
                await DisconnectQuietlyAsync().ConfigureAwait(false);
                return new ConnectOutcome.Failed(ex.Message);
            }
        }

        lock (_gate)
        {
            _connected.TrySetResult();
        }

        Connected?.Invoke(this, new MqttConnectedEventArgs(_settings.Endpoint, (int)result.ResultCode, result.IsSessionPresent, isReconnect));
        return new ConnectOutcome.Success();
    }

    private void LogUnreachable(string cause)
    {
        // One line per outage, not one per attempt.
        if (!_unreachableLogged)
        {
            _unreachableLogged = true;
            Log.MqttUnreachable(_logger, _settings.Endpoint, cause);
        }
    }

    private async Task DisconnectQuietlyAsync()
    {
        try
        {
            await Client.DisconnectAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException or ObjectDisposedException)
        {
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (e.ClientWasConnected)
        {
            lock (_gate)
            {
                if (_connected.Task.IsCompleted)
                {
                    _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            _unreachableLogged = false;
            if (!_stop.IsCancellationRequested)
            {
                Log.MqttDisconnected(_logger, _settings.Endpoint, ClientId, e.Exception?.Message ?? e.Reason.ToString());
                try
                {
                    _wake.Release();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsPermanent(MqttClientConnectResultCode code) => code
        is MqttClientConnectResultCode.BadUserNameOrPassword
        or MqttClientConnectResultCode.NotAuthorized
        or MqttClientConnectResultCode.ClientIdentifierNotValid
        or MqttClientConnectResultCode.BadAuthenticationMethod
        or MqttClientConnectResultCode.Banned
        or MqttClientConnectResultCode.UnsupportedProtocolVersion;

    private static string Advice(MqttClientConnectResultCode code) => code switch
    {
        MqttClientConnectResultCode.BadUserNameOrPassword => "; check Mqtt:Username and Mqtt:Password",
        MqttClientConnectResultCode.NotAuthorized => "; check Mqtt:Username and Mqtt:Password, or allow_anonymous in mosquitto.conf",
        MqttClientConnectResultCode.ClientIdentifierNotValid => "; set another Mqtt:ClientId",
        MqttClientConnectResultCode.UnsupportedProtocolVersion => "; the broker does not speak MQTT 5 (mosquitto 1.6 or later does)",
        _ => string.Empty,
    };

    private string Describe(Exception ex)
    {
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException tls)
            {
                return DescribeTls(tls);
            }
        }

        var innermost = ex;
        var brokenConnection = ex is IOException or System.Net.Sockets.SocketException;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
            brokenConnection |= innermost is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException;
        }

        var cause = ex is OperationCanceledException ? "connection attempt timed out" : innermost.Message;

        // With TLS 1.3 a broker that wants a client certificate says so only by closing the connection after the
        // handshake: the client then sees a broken connection, not a TLS error (at its root, either a socket error or
        // OpenSSL's own "tlsv13 alert certificate required", depending on when the alert is read).
        return _settings.Options.UseTls && string.IsNullOrEmpty(_settings.Options.ClientCertificate) && brokenConnection
            ? $"{cause.TrimEnd('.')}; the broker closed the TLS connection: if it requires client certificates (mosquitto: require_certificate true), set Mqtt:ClientCertificate and Mqtt:ClientKey"
            : cause;
    }

    /// <summary>A TLS failure in the words of what to set, not of .NET's certificate chain.</summary>
    private string DescribeTls(System.Security.Authentication.AuthenticationException tls)
    {
        if (_settings.LastCertificateProblem is { } problem)
        {
            return $"TLS with {_settings.Endpoint} failed: {problem}";
        }

        return string.IsNullOrEmpty(_settings.Options.ClientCertificate)
            ? $"TLS with {_settings.Endpoint} failed: {tls.Message.TrimEnd('.')} (a broker that requires client certificates needs Mqtt:ClientCertificate and Mqtt:ClientKey)"
            : $"TLS with {_settings.Endpoint} failed: {tls.Message.TrimEnd('.')}";
    }

    private abstract record ConnectOutcome
    {
        public sealed record Success : ConnectOutcome;

        public sealed record Failed(string Cause) : ConnectOutcome;

        public sealed record Refused(string Message, MqttSubscriptionRefusedException? Exception = null) : ConnectOutcome;
    }
}
