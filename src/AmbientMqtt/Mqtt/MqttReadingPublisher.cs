using System.Diagnostics.Metrics;
using System.Text;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Publishes readings as JSON (<see cref="AmbientPayload"/>) to <see cref="MqttConnectionOptions.Topic"/> over MQTT 5,
/// QoS 1 by default. It connects and reconnects by itself; readings taken while the broker is unreachable wait in a
/// bounded queue (in memory, or in a spool on disk that survives a restart) and are sent after the reconnect, oldest
/// first. Each publisher announces its node's availability, ESPHome style.
/// </summary>
/// <remarks>
/// <para>When the queue is full the oldest message is dropped and counted in the log (see <see cref="Dropped"/>): a
/// sensor that keeps measuring through a long outage keeps the newest readings. A message whose publish was interrupted
/// by a lost connection is sent again after the reconnect; at QoS 1 the subscriber's idempotent insert absorbs the
/// copy.</para>
/// <para>Availability: the MQTT will on <see cref="MqttConnectionOptions.AvailabilityTopic"/> says
/// <see cref="MqttConnectionOptions.AvailabilityOffline"/>, retained, so the broker announces a publisher that died
/// (within 1.5 times the keep-alive); once connected it publishes <see cref="MqttConnectionOptions.AvailabilityOnline"/>,
/// retained, and on a clean stop (<see cref="DisposeAsync"/>) the offline payload.</para>
/// </remarks>
public sealed class MqttReadingPublisher : IReadingPublisher
{
    private readonly MqttSettings _settings;
    private readonly MqttPublisherOptions _options;
    private readonly ILogger _logger;
    private readonly ReconnectingMqttClient _connection;
    private readonly IOutbox _outbox;
    private readonly TimeProvider _timeProvider;
    private readonly AmbientMetrics _metrics;
    private readonly string? _availabilityTopic;
    private readonly List<Func<IMqttClient, CancellationToken, Task>> _onConnected = [];
    private int _receiveMaximum = MaxInFlight;
    private Task? _sender;
    private long _published;
    private bool _disposed;

    /// <summary>Initializes a new publisher; call <see cref="StartAsync"/> to connect.</summary>
    /// <param name="options">Where the broker is, the topic, credentials and queue size.</param>
    /// <param name="logger">Where connection changes and dropped messages are logged.</param>
    /// <param name="timeProvider">The clock for reconnection delays; <see cref="TimeProvider.System"/> when omitted.</param>
    /// <param name="meterFactory">Where the meter comes from; the process-wide meter when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public MqttReadingPublisher(
        MqttPublisherOptions options,
        ILogger<MqttReadingPublisher>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
        : this(options, outbox: null, logger, timeProvider, meterFactory)
    {
    }

    internal MqttReadingPublisher(
        MqttPublisherOptions options,
        IOutbox? outbox,
        ILogger<MqttReadingPublisher>? logger,
        TimeProvider? timeProvider,
        IMeterFactory? meterFactory)
    {
        OptionsCheck.ThrowIfInvalid<MqttPublisherOptions>(MqttOptionsValidator.Instance, options);
        _options = options;
        _settings = MqttSettings.Create(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = AmbientMetrics.For(meterFactory);
        Topic = MqttTopics.Resolve(options.Topic, options.Identifier);
        _availabilityTopic = MqttTopics.AvailabilityTemplate(options) is { } availability ? MqttTopics.Resolve(availability, options.Identifier) : null;
        _outbox = outbox ?? (options.SpoolPath is { } spool ? OpenSpool(spool, options.SpoolMaxReadings, _logger) : new MemoryOutbox(options.QueueCapacity));
        _outbox.Dropped += OnDropped;

        var clientOptions = _settings.BuildClientOptions(_settings.ClientId, cleanStart: true, sessionExpirySeconds: 0, b =>
        {
            if (_availabilityTopic is not null)
            {
                // The broker says it for us when we vanish without a DISCONNECT (a crash, a power cut, a lost network).
                b.WithWillTopic(_availabilityTopic)
                    .WithWillPayload(Encoding.UTF8.GetBytes(options.AvailabilityOffline))
                    .WithWillRetain()
                    .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
            }
        });
        _connection = new ReconnectingMqttClient(_settings, clientOptions, OnConnectedAsync, _logger, _timeProvider, _metrics);
        _connection.Connected += (sender, e) => Connected?.Invoke(this, e);
    }

    /// <summary>Raised each time a connection to the broker is made, the first one and every reconnection.</summary>
    public event EventHandler<MqttConnectedEventArgs>? Connected;

    /// <summary>Gets the client id in use.</summary>
    public string ClientId => _settings.ClientId;

    /// <summary>Gets the broker as <c>host:port</c>.</summary>
    public string Endpoint => _settings.Endpoint;

    /// <summary>Gets the broker's host, as configured.</summary>
    public string Host => _settings.Options.Host;

    /// <summary>Gets the topic messages are published to (the template with the node's identifier in place).</summary>
    public string Topic { get; }

    /// <summary>Gets the node's availability topic, or <see langword="null"/> when availability is off.</summary>
    public string? AvailabilityTopic => _availabilityTopic;

    /// <summary>Gets the spool file (<c>Publish:SpoolPath</c>, as a full path), or <see langword="null"/> when messages wait in
    /// memory.</summary>
    public string? SpoolPath => (_outbox as SpoolOutbox)?.Path;

    /// <summary>Gets a value indicating whether the client is connected right now.</summary>
    public bool IsConnected => _connection.IsConnected;

    /// <summary>Gets the number of messages queued or in flight.</summary>
    public long Pending => _outbox.Count;

    /// <summary>Gets the number of messages dropped because the queue was full.</summary>
    public long Dropped => _outbox.DroppedCount;

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
    public ValueTask<AmbientReading> PublishAsync(AmbientReading reading, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (reading.Identifier is null && _options.Identifier is not null)
        {
            reading = reading with { Identifier = _options.Identifier };
        }

        // Numbered where the number survives a restart (the spool), so the subscriber can tell a lost reading from a restart.
        var queued = _outbox.Add(sequence => AmbientPayload.Encode(sequence is null ? reading : reading with { Sequence = sequence }), out var sequence);
        return ValueTask.FromResult(sequence is null ? reading : reading with { Sequence = sequence });
    }

    /// <summary>
    /// Queues a raw payload (any bytes, as the tutorial's keyboard publisher sends typed lines) for <see cref="Topic"/>.
    /// </summary>
    /// <param name="payload">The payload; the publisher keeps a reference, so do not change it afterwards.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the payload is queued.</returns>
    public ValueTask PublishAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        _outbox.Add(_ => payload, out _);
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

    /// <summary>Stops sending, says <see cref="MqttConnectionOptions.AvailabilityOffline"/> on the availability topic and
    /// disconnects. Call <see cref="FlushAsync"/> first to wait for queued messages.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _outbox.Complete();
        if (_availabilityTopic is not null && _connection.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _connection.Client.PublishAsync(Availability(_options.AvailabilityOffline), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // Gone anyway: the will says it instead.
            }
        }

        var sender = _sender;
        await _connection.DisposeAsync().ConfigureAwait(false);
        if (sender is not null)
        {
            await sender.ConfigureAwait(false);
        }

        _outbox.Dispose();
    }

    /// <summary>Gets the options the publisher was made with.</summary>
    internal MqttPublisherOptions Options => _options;

    /// <summary>Gets the MQTT client, for work done on it besides publishing readings (Home Assistant discovery).</summary>
    internal IMqttClient Client => _connection.Client;

    /// <summary>Adds work to do on every connection, after the availability announcement (Home Assistant discovery).</summary>
    internal void OnEveryConnection(Func<IMqttClient, CancellationToken, Task> action) => _onConnected.Add(action);

    /// <summary>The most messages in flight at once; fewer when the broker's Receive Maximum says so.</summary>
    internal const int MaxInFlight = 16;

    private MqttApplicationMessage Availability(string payload) => new MqttApplicationMessageBuilder()
        .WithTopic(_availabilityTopic)
        .WithPayload(payload)
        .WithRetainFlag()
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
        .Build();

    private async Task OnConnectedAsync(MqttClientConnectResult result, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _receiveMaximum, result.ReceiveMaximum is { } maximum and > 0 ? maximum : ushort.MaxValue);
        if (_availabilityTopic is not null)
        {
            await _connection.Client.PublishAsync(Availability(_options.AvailabilityOnline), cancellationToken).ConfigureAwait(false);
        }

        foreach (var action in _onConnected)
        {
            await action(_connection.Client, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync(CancellationToken stop)
    {
        // Several messages in flight at once, so that a backlog after an outage goes out at the broker's pace rather than
        // one round trip per message, and a new reading waits behind it seconds, not minutes. They are completed and
        // removed strictly in the order sent, so the outbox always loses its oldest first.
        var inFlight = new Queue<(long Id, Task<MqttClientPublishResult> Publish)>();
        var sent = -1L;
        var interrupted = false;
        try
        {
            while (true)
            {
                // Every path of the loop ends here once the publisher is disposed, whatever state the connection is in.
                stop.ThrowIfCancellationRequested();
                if (!_connection.IsConnected)
                {
                    // Nothing leaves the queue while there is no connection, so the queue alone decides what is dropped.
                    await AbandonAsync(inFlight).ConfigureAwait(false);
                    sent = -1;
                    interrupted = true;
                    await _connection.WaitConnectedAsync(stop).ConfigureAwait(false);
                    if (!_connection.IsConnected)
                    {
                        // Connected and gone again before the disconnect was noticed: not a reason to spin.
                        await Task.Delay(TimeSpan.FromMilliseconds(50), _timeProvider, stop).ConfigureAwait(false);
                    }

                    continue;
                }

                var window = Math.Max(1, Math.Min(MaxInFlight, Volatile.Read(ref _receiveMaximum)));
                while (inFlight.Count < window && _outbox.TryPeek(sent, out var id, out var payload))
                {
                    if (interrupted)
                    {
                        interrupted = false;
                        Log.PublishResumed(_logger, _settings.Endpoint, _outbox.Count);
                    }

                    var message = new MqttApplicationMessageBuilder()
                        .WithTopic(Topic)
                        .WithPayload(payload)
                        .WithQualityOfServiceLevel(_settings.Qos)
                        .Build();
                    inFlight.Enqueue((id, _connection.Client.PublishAsync(message, stop)));
                    sent = id;
                }

                if (inFlight.Count == 0)
                {
                    if (_outbox.Count > 0 && sent >= 0)
                    {
                        // Nothing in flight, nothing new, yet messages are kept: ones sent whose acknowledgement removed
                        // nothing. Send them again rather than wait for a message that is already there.
                        sent = -1;
                        continue;
                    }

                    if (!await _outbox.WaitAsync(stop).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                var (oldest, publish) = inFlight.Peek();
                try
                {
                    var result = await publish.ConfigureAwait(false);
                    inFlight.Dequeue();
                    if (!result.IsSuccess)
                    {
                        if (!IsPermanent(result.ReasonCode))
                        {
                            // The broker could not take it now (quota, busy): send it again shortly, and what followed it.
                            await AbandonAsync(inFlight).ConfigureAwait(false);
                            sent = oldest - 1;
                            await Task.Delay(TimeSpan.FromMilliseconds(200), _timeProvider, stop).ConfigureAwait(false);
                            continue;
                        }

                        Log.PublishRefused(_logger, _settings.Endpoint, Topic, result.ReasonCode.ToString());
                    }
                    else
                    {
                        Interlocked.Increment(ref _published);
                        _metrics.MessagePublished();
                    }

                    // Only now, after the broker's PUBACK, does a reading leave the outbox (and the spool).
                    _outbox.Remove(oldest);
                }
                catch (Exception ex) when (ex is MqttCommunicationException or ObjectDisposedException or InvalidOperationException && !stop.IsCancellationRequested)
                {
                    // They stay first in the queue: they go out first after the reconnect.
                    await AbandonAsync(inFlight).ConfigureAwait(false);
                    sent = -1;
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
        finally
        {
            await AbandonAsync(inFlight).ConfigureAwait(false);
        }
    }

    /// <summary>Lets go of publishes in flight (they stay in the outbox), observing how they ended.</summary>
    private static async Task AbandonAsync(Queue<(long Id, Task<MqttClientPublishResult> Publish)> inFlight)
    {
        while (inFlight.TryDequeue(out var entry))
        {
            try
            {
                await entry.Publish.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
            }
        }
    }

    private void OnDropped(long dropped)
    {
        _metrics.MessageDropped();
        if (dropped == 1 || dropped % 1000 == 0)
        {
            if (_outbox is SpoolOutbox spool)
            {
                Log.SpoolFull(_logger, spool.Path, spool.Capacity, dropped);
            }
            else
            {
                Log.PublishQueueFull(_logger, _outbox.Capacity, dropped);
            }
        }
    }

    private static SpoolOutbox OpenSpool(string path, int capacity, ILogger logger)
    {
        try
        {
            return SpoolOutbox.Open(path, capacity, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"Publish:SpoolPath: cannot open '{path}': {ex.Message}", ex);
        }
    }

    private static bool IsPermanent(MqttClientPublishReasonCode code) => code
        is MqttClientPublishReasonCode.NotAuthorized
        or MqttClientPublishReasonCode.TopicNameInvalid
        or MqttClientPublishReasonCode.PayloadFormatInvalid
        or MqttClientPublishReasonCode.UnspecifiedError
        or MqttClientPublishReasonCode.ImplementationSpecificError;
}
