using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using NodaTime;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Subscribes to <see cref="MqttConnectionOptions.Topic"/> over MQTT 5 with a persistent session and manual
/// acknowledgement, so a message stays with the broker until it is stored. MQTTnet reads and writes every MQTT packet.
/// </summary>
/// <remarks>
/// <para>Each connection connects with clean start off and a long session expiry under a fixed client id, and
/// subscribes on every connection (a broker that kept the session keeps the subscription too, and subscribing again is
/// harmless, while a changed <see cref="MqttConnectionOptions.Topic"/> must take effect). A message is acknowledged
/// through MQTTnet (<see cref="ReceivedMessage.AcknowledgeAsync"/>) once it is stored, in the order it arrived.</para>
/// <para>Memory is bounded in bytes, whatever the broker does. MQTT 5 Receive Maximum
/// (<see cref="MqttSubscriberOptions.ReceiveMaximum"/>) lets a broker send that many messages per connection before
/// the subscriber acknowledges, and Maximum Packet Size (<see cref="MqttSubscriberOptions.MaxPacketSize"/>) bounds each
/// one; but mosquitto 2.0.11 (Debian 12, Raspberry Pi OS Bookworm) stops honouring Receive Maximum once
/// acknowledgements flow, and sends a backlog as fast as TCP takes it. So the bytes of messages not yet acknowledged
/// are counted, and past <see cref="MqttSubscriberOptions.MaxUnacknowledgedBytes"/> each connection's socket is not read
/// until they are stored down to half (<see cref="ReceiveGate"/>, under MQTTnet and its TLS, touching no byte): TCP
/// then holds the broker back, and a backlog drains at the database's pace without a reconnect. Should the gate stay
/// closed for half the keep-alive (the database is not taking anything: an outage), the connections disconnect
/// normally, keeping their sessions, rather than let the unread ping answer time the connection out; they connect
/// again once what is held has been stored. One disconnect per outage, and the broker keeps the rest.</para>
/// <para>With <see cref="MqttSubscriberOptions.SharedGroup"/> or more than one of
/// <see cref="MqttSubscriberOptions.Connections"/> it subscribes to the shared subscription
/// <c>$share/&lt;group&gt;/&lt;filter&gt;</c>. It also follows each node's availability topic (retained
/// <c>online</c>/<c>offline</c>), see <see cref="Availability"/>.</para>
/// </remarks>
public sealed class MqttReadingSubscriber : IReadingSubscriber
{
    // What a message held costs beyond its payload and topic: MQTTnet's packet, message and event objects, ours.
    private const int MessageOverhead = 512;

    private readonly MqttSettings _settings;
    private readonly MqttSubscriberOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly AmbientMetrics _metrics;
    private readonly Channel<ReceivedMessage> _messages;
    private readonly ReconnectingMqttClient[] _connections;
    private readonly string _topicFilter;
    private readonly int _identifierLevel;
    private readonly string? _availabilityFilter;
    private readonly int _availabilityIdentifierLevel;
    private readonly Dictionary<string, bool> _availability = new(StringComparer.Ordinal);
    private readonly HashSet<string> _foreignTopics = new(StringComparer.Ordinal);
    private readonly ReceiveGate _gate;
    private readonly TimeSpan _stallAfter;
    private readonly ITimer _stallWatch;
    private long _received;
    private long _staleAcknowledgements;
    private int _paused;
    private volatile bool _stopping;
    private bool _started;
    private bool _disposed;

    /// <summary>Initializes a new subscriber; call <see cref="StartAsync"/> to connect.</summary>
    /// <param name="options">Where the broker is, the topic, the client id and flow-control settings.</param>
    /// <param name="logger">Where connection changes are logged.</param>
    /// <param name="timeProvider">The clock for reception times and reconnection delays.</param>
    /// <param name="meterFactory">Where the meter comes from; the process-wide meter when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public MqttReadingSubscriber(
        MqttSubscriberOptions options,
        ILogger<MqttReadingSubscriber>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        OptionsCheck.ThrowIfInvalid<MqttSubscriberOptions>(MqttOptionsValidator.Instance, options);
        _options = options;
        _settings = MqttSettings.Create(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = AmbientMetrics.For(meterFactory);
        _topicFilter = MqttTopics.Filter(options.Topic);
        _identifierLevel = MqttTopics.IdentifierLevel(options.Topic);
        if (MqttTopics.AvailabilityTemplate(options) is { } availability)
        {
            _availabilityFilter = MqttTopics.Filter(availability);
            _availabilityIdentifierLevel = MqttTopics.IdentifierLevel(availability);
        }

        var group = options.SharedGroup ?? (options.Connections > 1 ? SanitizeGroup(_settings.ClientId) : null);
        TopicFilter = group is null ? _topicFilter : $"$share/{group}/{_topicFilter}";
        _gate = new ReceiveGate(options.MaxUnacknowledgedBytes, options.MaxUnacknowledgedBytes / 2, _timeProvider);
        _stallAfter = options.KeepAlive > TimeSpan.Zero ? options.KeepAlive / 2 : TimeSpan.FromSeconds(15);
        _stallWatch = _timeProvider.CreateTimer(static s => ((MqttReadingSubscriber)s!).CheckStall(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // Unbounded: what bounds the messages in hand is what the broker may send (Receive Maximum) and the pause past
        // MaxUnacknowledgedBytes. A single-reader channel takes and gives without a lock.
        _messages = Channel.CreateUnbounded<ReceivedMessage>(new UnboundedChannelOptions { SingleReader = true });

        var sessionExpiry = (uint)options.SessionExpiry.TotalSeconds;
        _connections = new ReconnectingMqttClient[options.Connections];
        for (var i = 0; i < _connections.Length; i++)
        {
            var clientId = options.Connections > 1 ? $"{_settings.ClientId}-{i + 1}" : _settings.ClientId;
            var clientOptions = _settings.BuildClientOptions(clientId, cleanStart: false, sessionExpiry, b => b
                .WithReceiveMaximum((ushort)options.ReceiveMaximum)
                .WithMaximumPacketSize((uint)options.MaxPacketSize)
                .WithStreamProvider(new GatedStreamProvider(_gate, options.SocketBufferSize)));
            var first = i == 0;
            ReconnectingMqttClient? connection = null;
            connection = new ReconnectingMqttClient(
                _settings,
                clientOptions,
                (result, ct) => OnConnectedAsync(connection!, result, first, ct),
                _logger,
                _timeProvider,
                _metrics);
            var c = connection;
            connection.Client.ApplicationMessageReceivedAsync += e => OnMessageAsync(c, e);
            connection.Connected += (_, e) => Connected?.Invoke(this, e);
            connection.SubscriptionRefused += (_, e) => _messages.Writer.TryComplete(e);
            _connections[i] = connection;
        }
    }

    /// <summary>Raised each time a connection to the broker is made, the first one and every reconnection.</summary>
    public event EventHandler<MqttConnectedEventArgs>? Connected;

    /// <summary>Raised when a node's availability topic changes (<c>online</c>/<c>offline</c>, retained by the broker,
    /// so also once per node on each subscription).</summary>
    public event EventHandler<NodeAvailabilityEventArgs>? AvailabilityChanged;

    /// <inheritdoc />
    /// <remarks>Completes with an <see cref="MqttSubscriptionRefusedException"/> when the broker refuses the subscription
    /// on a reconnection.</remarks>
    public ChannelReader<ReceivedMessage> Messages => _messages.Reader;

    /// <summary>Gets the broker as <c>host:port</c>.</summary>
    public string Endpoint => _settings.Endpoint;

    /// <summary>Gets the topic filter subscribed to (<c>$share/…</c> when shared).</summary>
    public string TopicFilter { get; }

    /// <summary>Gets the client id (the name of the persistent session).</summary>
    public string ClientId => _settings.ClientId;

    /// <summary>Gets the number of messages received so far (redeliveries included).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Gets the bytes of messages received and not yet acknowledged (see
    /// <see cref="MqttSubscriberOptions.MaxUnacknowledgedBytes"/>).</summary>
    public long UnacknowledgedBytes => _gate.Held;

    /// <summary>Gets a value indicating whether every connection is up.</summary>
    public bool IsConnected => _connections.All(c => c.IsConnected);

    /// <summary>Gets the last availability each node announced: <see langword="true"/> online, <see langword="false"/>
    /// offline. A node whose availability topic names no identifier is listed under the empty string.</summary>
    public IReadOnlyDictionary<string, bool> Availability
    {
        get
        {
            lock (_availability)
            {
                return new Dictionary<string, bool>(_availability, StringComparer.Ordinal);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="MqttConnectionException">The broker refused the credentials or the client id.</exception>
    /// <exception cref="MqttSubscriptionRefusedException">The broker refused the subscription.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started)
        {
            return;
        }

        _started = true;
        _stallWatch.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
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
        await _stallWatch.DisposeAsync().ConfigureAwait(false);
        await StopReceivingAsync().ConfigureAwait(false);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
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

    private async Task OnConnectedAsync(ReconnectingMqttClient connection, MqttClientConnectResult result, bool first, CancellationToken cancellationToken)
    {
        if (!result.IsSessionPresent && connection.Generation > 1)
        {
            Log.NoSession(_logger, connection.ClientId);
        }

        // On every connection, whether or not the broker kept the session: subscribing again is idempotent, and a
        // session kept from a run with another Mqtt:Topic must not leave this run without its subscription.
        var subscribe = new MqttClientSubscribeOptionsBuilder().WithTopicFilter(TopicFilter, _settings.Qos);
        if (first && _availabilityFilter is not null)
        {
            subscribe.WithTopicFilter(_availabilityFilter, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var subscribed = await connection.Client.SubscribeAsync(subscribe.Build(), cancellationToken).ConfigureAwait(false);
        foreach (var item in subscribed.Items)
        {
            var filter = item.TopicFilter.Topic;
            var granted = (int)item.ResultCode;
            if (granted > 2)
            {
                throw new MqttSubscriptionRefusedException(
                    $"MQTT broker {_settings.Endpoint} refused the subscription to '{filter}' of client '{connection.ClientId}': {item.ResultCode}{SubscribeAdvice(item.ResultCode)}");
            }

            if (filter == TopicFilter && granted < (int)_settings.Qos)
            {
                throw new MqttSubscriptionRefusedException(
                    $"MQTT broker {_settings.Endpoint} granted QoS {granted} on '{filter}' where {(int)_settings.Qos} was asked, so readings could be lost; allow QoS {(int)_settings.Qos} on the broker (mosquitto: max_qos) or set Mqtt:Qos={granted}");
            }
        }

        Log.Subscribed(_logger, TopicFilter, _settings.Endpoint, (int)_settings.Qos, connection.ClientId, result.IsSessionPresent);
    }

    private static string SubscribeAdvice(MqttClientSubscribeResultCode code) => code switch
    {
        MqttClientSubscribeResultCode.TopicFilterInvalid => "; check Mqtt:Topic",
        MqttClientSubscribeResultCode.NotAuthorized => "; the broker's access rules do not allow it (mosquitto: acl_file), or check Mqtt:Username",
        MqttClientSubscribeResultCode.SharedSubscriptionsNotSupported => "; this broker has no shared subscriptions: unset Mqtt:SharedGroup and keep Mqtt:Connections=1",
        MqttClientSubscribeResultCode.WildcardSubscriptionsNotSupported => "; this broker takes no wildcards: use a Mqtt:Topic without {identifier}, + or #",
        _ => "; check Mqtt:Topic and the broker's log",
    };

    private async Task OnMessageAsync(ReconnectingMqttClient connection, MqttApplicationMessageReceivedEventArgs e)
    {
        e.AutoAcknowledge = false;
        if (_stopping)
        {
            // Not ours to take any more: left unacknowledged, it is delivered again on the next session.
            return;
        }

        var topic = e.ApplicationMessage.Topic;
        if (_availabilityFilter is not null && MqttTopics.Matches(topic, _availabilityFilter))
        {
            OnAvailability(topic, e.ApplicationMessage.Payload);
            await AcknowledgeQuietlyAsync(e).ConfigureAwait(false);
            return;
        }

        if (!MqttTopics.Matches(topic, _topicFilter))
        {
            await OnForeignTopicAsync(connection, topic).ConfigureAwait(false);
            await AcknowledgeQuietlyAsync(e).ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref _received);
        _metrics.MessageReceived();
        var sequence = e.ApplicationMessage.Payload;

        // MQTTnet gives every packet a fresh array, so a single-segment payload can be kept without copying.
        var payload = sequence.IsSingleSegment ? sequence.First : sequence.ToArray();
        var size = MessageOverhead + payload.Length + (2L * topic.Length);
        var message = new MqttReceivedMessage(
            this,
            topic,
            payload,
            Instant.FromDateTimeOffset(_timeProvider.GetUtcNow()),
            MqttTopics.Level(topic, _identifierLevel),
            connection,
            connection.Generation,
            e,
            size);
        Hold(size);
        if (!_messages.Writer.TryWrite(message))
        {
            // Stopping: the message stays unacknowledged and comes back on the next session.
            Release(size);
        }
    }

    /// <summary>A message on a topic Mqtt:Topic no longer matches: a subscription an earlier run of this client id made,
    /// which the broker kept in the session. Said once per topic, and ended when the topic was its own filter.</summary>
    private async Task OnForeignTopicAsync(ReconnectingMqttClient connection, string topic)
    {
        bool first;
        lock (_foreignTopics)
        {
            // Bounded: a client publishing on endless topics the old subscription matches must not grow memory.
            first = _foreignTopics.Count < 1000 && _foreignTopics.Add(topic);
        }

        if (!first)
        {
            return;
        }

        Log.ForeignTopic(_logger, LogText.Printable(topic), _options.Topic, connection.ClientId);
        try
        {
            await connection.Client.UnsubscribeAsync(topic).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            // The connection dropped; the next message on that topic tries nothing again, and the log said what to do.
        }
    }

    private void OnAvailability(string topic, ReadOnlySequence<byte> payload)
    {
        var node = MqttTopics.Level(topic, _availabilityIdentifierLevel) ?? string.Empty;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload.Length > 64 ? payload.Slice(0, 64) : payload).Trim();
        }
        catch (DecoderFallbackException)
        {
            return;
        }

        bool online;
        if (string.Equals(text, _options.AvailabilityOnline, StringComparison.OrdinalIgnoreCase))
        {
            online = true;
        }
        else if (string.Equals(text, _options.AvailabilityOffline, StringComparison.OrdinalIgnoreCase))
        {
            online = false;
        }
        else
        {
            // An empty retained message clears the topic; anything else is not ours to interpret.
            return;
        }

        bool changed;
        lock (_availability)
        {
            changed = !_availability.TryGetValue(node, out var was) || was != online;
            _availability[node] = online;
        }

        if (changed)
        {
            var said = online ? _options.AvailabilityOnline : _options.AvailabilityOffline;
            if (node.Length == 0)
            {
                Log.PublisherAvailability(_logger, LogText.Printable(topic), said);
            }
            else
            {
                Log.NodeAvailability(_logger, LogText.Printable(node), said);
            }
            AvailabilityChanged?.Invoke(this, new NodeAvailabilityEventArgs(node, online, Instant.FromDateTimeOffset(_timeProvider.GetUtcNow())));
        }
    }

    private static async Task AcknowledgeQuietlyAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            await e.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or ObjectDisposedException or InvalidOperationException or NullReferenceException)
        {
            // The connection is gone: the broker sends it again, and it is acknowledged then.
        }
    }

    private void Hold(long size) => _gate.Hold(size);

    private void Release(long size)
    {
        if (_gate.Release(size) && Interlocked.CompareExchange(ref _paused, 0, 1) == 1)
        {
            Log.SubscriberResumed(_logger, _gate.Held, _settings.Endpoint);
            foreach (var connection in _connections)
            {
                connection.Resume();
            }
        }
    }

    /// <summary>Once a second: a gate closed for long means nothing is being stored; step away from the broker cleanly.</summary>
    private void CheckStall()
    {
        if (_gate.ClosedFor > _stallAfter && Volatile.Read(ref _paused) == 0 && Interlocked.CompareExchange(ref _paused, 1, 0) == 0)
        {
            Log.SubscriberPaused(_logger, _gate.Held, _options.MaxUnacknowledgedBytes, _stallAfter.TotalSeconds, _settings.Endpoint);
            foreach (var connection in _connections)
            {
                _ = connection.PauseAsync();
            }

            // Opened meanwhile (the last batch committed just now): connect again at once.
            if (!_gate.IsClosed && Interlocked.CompareExchange(ref _paused, 0, 1) == 1)
            {
                foreach (var connection in _connections)
                {
                    connection.Resume();
                }
            }
        }
    }

    private void StaleAcknowledgement()
    {
        // One line per lost connection's worth, not per message: the broker delivers them all again.
        if (Interlocked.Increment(ref _staleAcknowledgements) is var count && (count == 1 || count % 1000 == 0))
        {
            Log.StaleAck(_logger, count);
        }
    }

    private sealed class MqttReceivedMessage(
        MqttReadingSubscriber subscriber,
        string topic,
        ReadOnlyMemory<byte> payload,
        Instant receivedAt,
        string? identifier,
        ReconnectingMqttClient connection,
        int generation,
        MqttApplicationMessageReceivedEventArgs args,
        long size)
        : ReceivedMessage(topic, payload, receivedAt, identifier)
    {
        private int _acknowledged;

        public override bool IsRedelivery => args.ApplicationMessage.Dup;

        public override async ValueTask AcknowledgeAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _acknowledged, 1) != 0)
            {
                return;
            }

            // Stored (or set aside): it no longer counts against the bound, whatever becomes of the acknowledgement.
            subscriber.Release(size);
            if (args.ApplicationMessage.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce)
            {
                return;
            }

            // A packet id belongs to the connection it came on; sending it on a newer one would acknowledge another message.
            if (connection.Generation != generation || !connection.IsConnected)
            {
                subscriber.StaleAcknowledgement();
                return;
            }

            try
            {
                await args.AcknowledgeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttCommunicationException or ObjectDisposedException or InvalidOperationException or NullReferenceException)
            {
                // The connection dropped between the check and the send; the broker redelivers.
                subscriber.StaleAcknowledgement();
            }
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Topic} ({Payload.Length} bytes)");
    }
}
