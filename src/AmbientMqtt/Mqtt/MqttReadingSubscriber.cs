using System.Buffers;
using System.Threading.Channels;
using AmbientMqtt.Ingest;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using NodaTime;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Subscribes to <see cref="MqttOptions.Topic"/> over MQTT 5 with a persistent session and manual acknowledgement, so
/// a message stays with the broker until it is stored.
/// </summary>
/// <remarks>
/// <para>Each connection connects with clean start off and a long session expiry under a fixed client id, subscribes
/// at QoS 1 when the broker has no session for it, and sets MQTT 5 Receive Maximum so that at most
/// <see cref="MqttOptions.ReceiveMaximum"/> messages per connection are unacknowledged: since nothing is acknowledged
/// before it is stored, that keeps memory bounded however far behind the database is, and holds the broker back.</para>
/// <para>Each connection reads on a thread of its own and decodes QoS 0 and 1 PUBLISH packets itself, straight from its
/// read buffer, and writes their PUBACKs; MQTTnet keeps the connection, the subscription, keep-alive and QoS 2.</para>
/// <para>With <see cref="MqttOptions.Connections"/> above 1 it opens that many connections (client ids
/// <c>&lt;ClientId&gt;-1</c>, …) on the shared subscription <c>$share/&lt;ClientId&gt;/&lt;Topic&gt;</c>.</para>
/// </remarks>
public sealed class MqttReadingSubscriber : IReadingSubscriber, IPublishSink, IArrivalNotifier
{
    private readonly MqttSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Channel<ReceivedMessage> _messages;
    private readonly ReconnectingMqttClient[] _connections;
    private readonly string _filter;
    private volatile bool _stopping;
    private ArrivalSignal? _arrival;
    private long _received;
    private bool _started;
    private bool _disposed;

    /// <summary>Initializes a new subscriber; call <see cref="StartAsync"/> to connect.</summary>
    /// <param name="options">Where the broker is, the topic, the client id and flow-control settings.</param>
    /// <param name="logger">Where connection changes are logged.</param>
    /// <param name="timeProvider">The clock for reception times and reconnection delays.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public MqttReadingSubscriber(MqttOptions options, ILogger<MqttReadingSubscriber>? logger = null, TimeProvider? timeProvider = null)
    {
        _settings = MqttSettings.Create(options, MqttSettings.ProgramName());
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        var shared = options.Connections > 1;
        _filter = shared ? $"$share/{SanitizeGroup(_settings.ClientId)}/{options.Topic}" : options.Topic;

        // No bound of its own: the broker may not send more than ReceiveMaximum unacknowledged messages per connection,
        // and nothing is acknowledged before it is stored, so that is what bounds the messages in hand. An unbounded
        // single-reader channel takes and gives without a lock, which matters at thousands of messages a second.
        _messages = Channel.CreateUnbounded<ReceivedMessage>(new UnboundedChannelOptions { SingleReader = true });

        var sessionExpiry = (uint)options.SessionExpiry.TotalSeconds;
        _connections = new ReconnectingMqttClient[options.Connections];
        for (var i = 0; i < _connections.Length; i++)
        {
            var clientId = shared ? $"{_settings.ClientId}-{i + 1}" : _settings.ClientId;
            ReconnectingMqttClient? connection = null;
            connection = new ReconnectingMqttClient(
                _settings,
                clientId,
                cleanStart: false,
                sessionExpiry,
                (ushort)options.ReceiveMaximum,
                (result, ct) => OnConnectedAsync(connection!, result, ct),
                _logger,
                _timeProvider,
                new ReceiveGate(options.ReceiveMaximum),
                this);
            var c = connection;
            connection.Client.ApplicationMessageReceivedAsync += e => OnMessageAsync(c, e);
            connection.Connected += (sender, e) => Connected?.Invoke(this, e);
            _connections[i] = connection;
        }
    }

    /// <summary>Raised each time a connection to the broker is made, the first one and every reconnection.</summary>
    public event EventHandler<MqttConnectedEventArgs>? Connected;

    /// <inheritdoc />
    public ChannelReader<ReceivedMessage> Messages => _messages.Reader;

    /// <inheritdoc />
    ArrivalSignal? IArrivalNotifier.ArrivalSignal
    {
        set => Volatile.Write(ref _arrival, value);
    }

    /// <summary>Gets the broker as <c>host:port</c>.</summary>
    public string Endpoint => _settings.Endpoint;

    /// <summary>Gets the topic filter subscribed to.</summary>
    public string TopicFilter => _filter;

    /// <summary>Gets the client id (the name of the persistent session).</summary>
    public string ClientId => _settings.ClientId;

    /// <summary>Gets the number of messages received so far (redeliveries included).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Gets a value indicating whether every connection is up.</summary>
    public bool IsConnected => _connections.All(c => c.IsConnected);

    /// <inheritdoc />
    /// <exception cref="MqttConnectionException">The broker refused the credentials or the client id.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started)
        {
            return;
        }

        _started = true;
        foreach (var connection in _connections)
        {
            await connection.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task StopReceivingAsync(CancellationToken cancellationToken = default)
    {
        _stopping = true;
        _messages.Writer.TryComplete();
        Volatile.Read(ref _arrival)?.Notify();
        return Task.CompletedTask;
    }

    /// <summary>Stops receiving and disconnects, keeping the session (and any unacknowledged message) on the broker.</summary>
    /// <returns>A task that completes when every connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopReceivingAsync().ConfigureAwait(false);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task OnConnectedAsync(ReconnectingMqttClient connection, MqttClientConnectResult result, CancellationToken cancellationToken)
    {
        if (result.IsSessionPresent)
        {
            // The broker kept our subscription and will resend what we had not acknowledged.
            return;
        }

        if (connection.Generation > 1)
        {
            Log.NoSession(_logger, connection.ClientId);
        }

        var subscribe = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(_filter, _settings.Qos)
            .Build();
        var subscribed = await connection.Client.SubscribeAsync(subscribe, cancellationToken).ConfigureAwait(false);
        foreach (var item in subscribed.Items)
        {
            var granted = (int)item.ResultCode;
            if (granted > 2)
            {
                throw new InvalidOperationException($"the broker refused the subscription to '{_filter}': {item.ResultCode}");
            }

            if (granted < (int)_settings.Qos)
            {
                throw new InvalidOperationException($"the broker granted QoS {granted} on '{_filter}' where {(int)_settings.Qos} was asked; messages could be lost");
            }
        }

        Log.Subscribed(_logger, _filter, _settings.Endpoint, (int)_settings.Qos, connection.ClientId);
    }

    /// <summary>
    /// The usual path: a QoS 0 or 1 message decoded by the connection's stream, handed over without going through
    /// MQTTnet's per-message machinery. Called on the connection's read path, in arrival order.
    /// </summary>
    void IPublishSink.OnPublish(MqttConnectionStream stream, string topic, ReadOnlyMemory<byte> payload, ushort packetId)
    {
        if (_stopping)
        {
            // Not ours to take any more: left unacknowledged, it is delivered again on the next session.
            return;
        }

        Interlocked.Increment(ref _received);
        AmbientMetrics.MessageReceived();
        var message = new StreamReceivedMessage(topic, payload, Instant.FromDateTimeOffset(_timeProvider.GetUtcNow()), stream, packetId, _logger);

        // Unbounded: never waits. It fails only once the subscriber is stopping, and then the message stays unacknowledged.
        if (_messages.Writer.TryWrite(message))
        {
            Volatile.Read(ref _arrival)?.Notify();
        }
    }

    /// <summary>
    /// MQTTnet's path, for what the stream leaves to it: QoS 2, and a message too large for the stream's buffer.
    /// </summary>
    private async Task OnMessageAsync(ReconnectingMqttClient connection, MqttApplicationMessageReceivedEventArgs e)
    {
        e.AutoAcknowledge = false;
        if (_stopping)
        {
            // Not ours to take any more: left unacknowledged, it is delivered again on the next session.
            return;
        }

        Interlocked.Increment(ref _received);
        AmbientMetrics.MessageReceived();
        var sequence = e.ApplicationMessage.Payload;

        // MQTTnet gives every packet a fresh array, so a single-segment payload can be kept without copying.
        var payload = sequence.IsSingleSegment ? sequence.First : sequence.ToArray();
        var gate = connection.ReceiveGate!;
        var message = new MqttReceivedMessage(
            e.ApplicationMessage.Topic,
            payload,
            Instant.FromDateTimeOffset(_timeProvider.GetUtcNow()),
            connection,
            connection.Generation,
            e,
            gate,
            gate.Epoch,
            _logger);
        try
        {
            if (!_messages.Writer.TryWrite(message))
            {
                await _messages.Writer.WriteAsync(message, connection.Stopping).ConfigureAwait(false);
            }

            Volatile.Read(ref _arrival)?.Notify();
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
        {
            // Stopping: the message stays unacknowledged and comes back on the next session.
        }
    }

    private static string SanitizeGroup(string clientId)
    {
        var chars = clientId.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is '/' or '+' or '#')
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private sealed class StreamReceivedMessage(
        string topic,
        ReadOnlyMemory<byte> payload,
        Instant receivedAt,
        MqttConnectionStream stream,
        ushort packetId,
        ILogger logger)
        : ReceivedMessage(topic, payload, receivedAt), IBatchAcknowledgement
    {
        private int _acknowledged;

        public override ValueTask AcknowledgeAsync(CancellationToken cancellationToken = default)
        {
            Acknowledge(sendNow: true);
            return ValueTask.CompletedTask;
        }

        public MqttConnectionStream? AcknowledgeDeferred() => Acknowledge(sendNow: false) ? stream : null;

        private bool Acknowledge(bool sendNow)
        {
            // QoS 0 has nothing to acknowledge; a second call must not release the gate twice.
            if (packetId == 0 || Interlocked.Exchange(ref _acknowledged, 1) != 0)
            {
                return false;
            }

            if (!stream.TryAcknowledge(packetId, sendNow))
            {
                Log.StaleAck(logger);
                return false;
            }

            return true;
        }
    }

    private sealed class MqttReceivedMessage(
        string topic,
        ReadOnlyMemory<byte> payload,
        Instant receivedAt,
        ReconnectingMqttClient connection,
        int generation,
        MqttApplicationMessageReceivedEventArgs args,
        ReceiveGate gate,
        int epoch,
        ILogger logger)
        : ReceivedMessage(topic, payload, receivedAt)
    {
        public override async ValueTask AcknowledgeAsync(CancellationToken cancellationToken = default)
        {
            if (args.QualityOfServiceLevel() == MqttQualityOfServiceLevel.AtMostOnce)
            {
                return;
            }

            // Stored (or set aside): it no longer counts against the socket's back-pressure, whatever becomes of the ack.
            gate.Released(epoch);

            // A packet id belongs to the connection it came on; sending it on a newer one would acknowledge another message.
            if (connection.Generation != generation || !connection.IsConnected)
            {
                Log.StaleAck(logger);
                return;
            }

            try
            {
                await args.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or NullReferenceException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection dropped between the check and the send; the broker redelivers.
                Log.StaleAck(logger);
            }
        }
    }
}

/// <summary>Helpers over MQTTnet's event args.</summary>
internal static class MqttEventArgsExtensions
{
    public static MqttQualityOfServiceLevel QualityOfServiceLevel(this MqttApplicationMessageReceivedEventArgs e)
        => e.ApplicationMessage.QualityOfServiceLevel;
}
