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
/// over, doubling the delay between failed attempts up to <see cref="MqttOptions.MaxReconnectDelay"/>. Each successful
/// connection gets a new <see cref="Generation"/>, so work tied to an old connection (an acknowledgement) can tell it is
/// stale.
/// </remarks>
internal sealed class ReconnectingMqttClient : IAsyncDisposable
{
    private readonly MqttSettings _settings;
    private readonly MqttClientOptions _clientOptions;
    private readonly Func<MqttClientConnectResult, CancellationToken, Task>? _onConnected;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly object _gate = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _generation;
    private int _connections;
    private bool _disposed;
    private bool _unreachableLogged;

    public ReconnectingMqttClient(
        MqttSettings settings,
        string clientId,
        bool cleanStart,
        uint sessionExpirySeconds,
        ushort? receiveMaximum,
        Func<MqttClientConnectResult, CancellationToken, Task>? onConnected,
        ILogger logger,
        TimeProvider timeProvider,
        ReceiveGate? receiveGate = null,
        IPublishSink? sink = null)
    {
        _settings = settings;
        ClientId = clientId;
        ReceiveGate = receiveGate;
        _clientOptions = settings.BuildClientOptions(clientId, cleanStart, sessionExpirySeconds, receiveMaximum, receiveGate, sink);
        _onConnected = onConnected;
        _logger = logger;
        _timeProvider = timeProvider;
        Client = new MqttClientFactory().CreateMqttClient();
        Client.DisconnectedAsync += OnDisconnectedAsync;
    }

    public event EventHandler<MqttConnectedEventArgs>? Connected;

    public IMqttClient Client { get; }

    /// <summary>Gets the back-pressure of a subscriber connection, or <see langword="null"/> for a publisher.</summary>
    public ReceiveGate? ReceiveGate { get; }

    public string ClientId { get; }

    public int Generation => Volatile.Read(ref _generation);

    public bool IsConnected => Client.IsConnected;

    public CancellationToken Stopping => _stop.Token;

    /// <summary>Makes the first attempt, then leaves the loop running in the background.</summary>
    /// <exception cref="MqttConnectionException">The broker refused the credentials or the client id.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var outcome = await TryConnectAsync(cancellationToken).ConfigureAwait(false);
        if (outcome is ConnectOutcome.Refused refused)
        {
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
                if (Client.IsConnected)
                {
                    // Woken by a disconnect or a failed publish; the timeout catches anything missed.
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
        AmbientMetrics.Connected(isReconnect);
        Interlocked.Increment(ref _generation);
        Log.MqttConnected(_logger, _settings.Endpoint, ClientId, result.IsSessionPresent);
        if (_onConnected is not null)
        {
            try
            {
                await _onConnected(result, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException)
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

    private static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null)
        {
            if (inner.InnerException is System.Security.Authentication.AuthenticationException)
            {
                // The stream provider's own account of a TLS failure, which names the certificate problem and what to set.
                return inner.Message;
            }

            inner = inner.InnerException;
        }

        return ex is OperationCanceledException ? "connection attempt timed out" : inner.Message;
    }

    private abstract record ConnectOutcome
    {
        public sealed record Success : ConnectOutcome;

        public sealed record Failed(string Cause) : ConnectOutcome;

        public sealed record Refused(string Message) : ConnectOutcome;
    }
}
