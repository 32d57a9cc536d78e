using System.Threading.Channels;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Publishes readings as JSON (<see cref="AmbientPayload"/>) to <see cref="MqttOptions.Topic"/> over MQTT 5, QoS 1 by
/// default. It connects and reconnects by itself; readings taken while the broker is unreachable wait in a bounded queue
/// and are sent after the reconnect, oldest first.
/// </summary>
/// <remarks>
/// When the queue is full the oldest message is dropped and counted in the log (see <see cref="Dropped"/>): a sensor
/// that keeps measuring through a long outage keeps the newest readings. A message whose publish was interrupted by a
/// lost connection is sent again after the reconnect; at QoS 1 the subscriber's idempotent insert absorbs the copy.
/// </remarks>
public sealed class MqttReadingPublisher : IReadingPublisher
{
    private readonly MqttSettings _settings;
    private readonly ILogger _logger;
    private readonly ReconnectingMqttClient _connection;
    private readonly Channel<byte[]> _queue;
    private readonly TimeProvider _timeProvider;
    private Task? _sender;
    private long _outstanding;
    private long _dropped;
    private long _published;
    private long _lastDropLog = long.MinValue;
    private bool _disposed;

    /// <summary>Initializes a new publisher; call <see cref="StartAsync"/> to connect.</summary>
    /// <param name="options">Where the broker is, the topic, credentials and queue size.</param>
    /// <param name="logger">Where connection changes and dropped messages are logged.</param>
    /// <param name="timeProvider">The clock for reconnection delays; <see cref="TimeProvider.System"/> when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public MqttReadingPublisher(MqttOptions options, ILogger<MqttReadingPublisher>? logger = null, TimeProvider? timeProvider = null)
    {
        _settings = MqttSettings.Create(options, MqttSettings.ProgramName());
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _queue = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            OnDropped);
        _connection = new ReconnectingMqttClient(
            _settings,
            _settings.ClientId,
            cleanStart: true,
            sessionExpirySeconds: 0,
            receiveMaximum: null,
            onConnected: null,
            _logger,
            _timeProvider);
        _connection.Connected += (sender, e) => Connected?.Invoke(this, e);
    }

    /// <summary>Raised each time a connection to the broker is made, the first one and every reconnection.</summary>
    public event EventHandler<MqttConnectedEventArgs>? Connected;

    /// <summary>Gets the client id in use.</summary>
    public string ClientId => _settings.ClientId;

    /// <summary>Gets the broker as <c>host:port</c>.</summary>
    public string Endpoint => _settings.Endpoint;

    /// <summary>Gets the topic messages are published to.</summary>
    public string Topic => _settings.Options.Topic;

    /// <summary>Gets a value indicating whether the client is connected right now.</summary>
    public bool IsConnected => _connection.IsConnected;

    /// <summary>Gets the number of messages queued or in flight.</summary>
    public long Pending => Interlocked.Read(ref _outstanding);

    /// <summary>Gets the number of messages dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Gets the number of messages the broker has accepted.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <inheritdoc />
    /// <exception cref="MqttConnectionException">The broker refused the credentials or the client id.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_sender is not null)
        {
            return;
        }

        await _connection.StartAsync(cancellationToken).ConfigureAwait(false);
        _sender = Task.Run(() => SendLoopAsync(_connection.Stopping), CancellationToken.None);
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(AmbientReading reading, CancellationToken cancellationToken = default)
        => PublishAsync(AmbientPayload.Encode(reading), cancellationToken);

    /// <summary>
    /// Queues a raw payload (any bytes, as the tutorial's keyboard publisher sends typed lines) for
    /// <see cref="Topic"/>.
    /// </summary>
    /// <param name="payload">The payload; the publisher keeps a reference, so do not change it afterwards.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the payload is queued.</returns>
    public ValueTask PublishAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _outstanding);

        // DropOldest never refuses a write; a drop is counted in OnDropped.
        if (!_queue.Writer.TryWrite(payload))
        {
            Interlocked.Decrement(ref _outstanding);
            throw new ObjectDisposedException(nameof(MqttReadingPublisher));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = _timeProvider.GetTimestamp() + (long)(timeout.TotalSeconds * _timeProvider.TimestampFrequency);
        while (Pending > 0)
        {
            if (_timeProvider.GetTimestamp() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Stops sending and disconnects. Call <see cref="FlushAsync"/> first to wait for queued messages.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _queue.Writer.TryComplete();
        var sender = _sender;
        await _connection.DisposeAsync().ConfigureAwait(false);
        if (sender is not null)
        {
            await sender.ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync(CancellationToken stop)
    {
        var reader = _queue.Reader;
        byte[]? current = null;
        var interrupted = false;
        try
        {
            while (true)
            {
                if (!_connection.IsConnected)
                {
                    // Nothing leaves the queue while there is no connection, so the queue alone decides what is dropped.
                    interrupted = true;
                    await _connection.WaitConnectedAsync(stop).ConfigureAwait(false);
                    continue;
                }

                if (current is null && !reader.TryRead(out current))
                {
                    if (!await reader.WaitToReadAsync(stop).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (interrupted)
                {
                    interrupted = false;
                    Log.PublishResumed(_logger, _settings.Endpoint, (int)Pending);
                }

                var message = new MqttApplicationMessageBuilder()
                    .WithTopic(_settings.Options.Topic)
                    .WithPayload(current)
                    .WithQualityOfServiceLevel(_settings.Qos)
                    .Build();
                try
                {
                    var result = await _connection.Client.PublishAsync(message, stop).ConfigureAwait(false);
                    if (!result.IsSuccess)
                    {
                        if (IsPermanent(result.ReasonCode))
                        {
                            Log.PublishRefused(_logger, _settings.Endpoint, _settings.Options.Topic, result.ReasonCode.ToString());
                        }
                        else
                        {
                            // The broker could not take it now (quota, busy): try the same message again shortly.
                            await Task.Delay(TimeSpan.FromMilliseconds(200), _timeProvider, stop).ConfigureAwait(false);
                            continue;
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref _published);
                        AmbientMetrics.MessagePublished();
                    }

                    current = null;
                    Interlocked.Decrement(ref _outstanding);
                }
                catch (Exception ex) when (ex is MqttCommunicationException or ObjectDisposedException or InvalidOperationException && !stop.IsCancellationRequested)
                {
                    // Keep `current`: it goes out first after the reconnect.
                    interrupted = true;
                    _connection.NotifyBroken();
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _timeProvider, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is MqttCommunicationException or ObjectDisposedException)
        {
            // Disposed mid-publish.
        }
    }

    private void OnDropped(byte[] payload)
    {
        Interlocked.Decrement(ref _outstanding);
        var dropped = Interlocked.Increment(ref _dropped);
        AmbientMetrics.MessageDropped();
        var now = _timeProvider.GetTimestamp();
        var last = Interlocked.Read(ref _lastDropLog);
        if (dropped == 1 || now - last >= 5 * _timeProvider.TimestampFrequency)
        {
            Interlocked.Exchange(ref _lastDropLog, now);
            Log.PublishQueueFull(_logger, _settings.Options.QueueCapacity, dropped);
        }
    }

    private static bool IsPermanent(MqttClientPublishReasonCode code) => code
        is MqttClientPublishReasonCode.NotAuthorized
        or MqttClientPublishReasonCode.TopicNameInvalid
        or MqttClientPublishReasonCode.PayloadFormatInvalid
        or MqttClientPublishReasonCode.UnspecifiedError
        or MqttClientPublishReasonCode.ImplementationSpecificError;
}
