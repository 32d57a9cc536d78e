using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Logging;

internal static partial class Log
{
    [LoggerMessage(2000, LogLevel.Information, "Connected to MQTT broker {Endpoint} as '{ClientId}' (session present: {SessionPresent})")]
    public static partial void MqttConnected(ILogger logger, string endpoint, string clientId, bool sessionPresent);

    [LoggerMessage(2001, LogLevel.Warning, "Cannot reach MQTT broker {Endpoint}: {Cause}; retrying in the background")]
    public static partial void MqttUnreachable(ILogger logger, string endpoint, string cause);

    [LoggerMessage(2002, LogLevel.Warning, "Lost the connection to MQTT broker {Endpoint} ('{ClientId}'): {Cause}; reconnecting")]
    public static partial void MqttDisconnected(ILogger logger, string endpoint, string clientId, string cause);

    [LoggerMessage(2003, LogLevel.Information, "Reconnected to MQTT broker {Endpoint} as '{ClientId}' after {Attempts} failed attempt(s)")]
    public static partial void MqttReconnected(ILogger logger, string endpoint, string clientId, int attempts);

    [LoggerMessage(2004, LogLevel.Error, "{Message}")]
    public static partial void MqttRefused(ILogger logger, string message);

    [LoggerMessage(2005, LogLevel.Warning, "Subscribing on MQTT broker {Endpoint} failed: {Cause}; reconnecting")]
    public static partial void MqttSubscribeFailed(ILogger logger, string endpoint, string cause);

    [LoggerMessage(2010, LogLevel.Warning, "Publish queue full ({Capacity} messages): dropped the oldest; {Dropped} dropped so far")]
    public static partial void PublishQueueFull(ILogger logger, long capacity, long dropped);

    [LoggerMessage(2011, LogLevel.Error, "MQTT broker {Endpoint} refused a message on '{Topic}': {Reason}; the message is dropped")]
    public static partial void PublishRefused(ILogger logger, string endpoint, string topic, string reason);

    [LoggerMessage(2012, LogLevel.Information, "Publishing to {Endpoint} again; {Pending} queued message(s) to send")]
    public static partial void PublishResumed(ILogger logger, string endpoint, long pending);

    [LoggerMessage(2020, LogLevel.Information, "Subscribed to '{Topic}' on {Endpoint} with QoS {Qos} as '{ClientId}' (session kept by the broker: {SessionPresent})")]
    public static partial void Subscribed(ILogger logger, string topic, string endpoint, int qos, string clientId, bool sessionPresent);

    [LoggerMessage(2021, LogLevel.Information, "The broker had no session for '{ClientId}': messages published while it was away were not kept for it")]
    public static partial void NoSession(ILogger logger, string clientId);

    [LoggerMessage(2022, LogLevel.Debug, "Could not acknowledge a stored message: the connection it came on is gone, and the broker will deliver it again (a no-op insert); {Count} so far")]
    public static partial void StaleAck(ILogger logger, long count);

    [LoggerMessage(2023, LogLevel.Warning, "A message came on '{Topic}', which Mqtt:Topic '{Filter}' does not match: a subscription that an earlier run of '{ClientId}' made, kept by the broker in the session. It is acknowledged and not stored; the subscription is ended when it was that topic itself (otherwise start once with a new Mqtt:ClientId, or wait for the session to expire)")]
    public static partial void ForeignTopic(ILogger logger, string topic, string filter, string clientId);

    [LoggerMessage(2024, LogLevel.Warning, "Holding {Held} bytes of messages not yet stored (Mqtt:MaxUnacknowledgedBytes {Limit}) and none stored for {Seconds:0} s: disconnected from {Endpoint}, keeping the session (the broker keeps the rest), until what is held is stored")]
    public static partial void SubscriberPaused(ILogger logger, long held, long limit, double seconds, string endpoint);

    [LoggerMessage(2025, LogLevel.Information, "Stored what was held (now {Held} bytes): connecting to {Endpoint} again")]
    public static partial void SubscriberResumed(ILogger logger, long held, string endpoint);

    [LoggerMessage(2026, LogLevel.Information, "Node '{Identifier}' is {Availability}")]
    public static partial void NodeAvailability(ILogger logger, string identifier, string availability);

    [LoggerMessage(2027, LogLevel.Information, "The publisher on '{Topic}' is {Availability} (its availability topic names no node)")]
    public static partial void PublisherAvailability(ILogger logger, string topic, string availability);

    [LoggerMessage(2030, LogLevel.Information, "Embedded MQTT broker listening on {Endpoint} (loopback only, persistent sessions, up to {MaxPending} messages held per subscriber)")]
    public static partial void EmbeddedBrokerStarted(ILogger logger, string endpoint, int maxPending);

    [LoggerMessage(2031, LogLevel.Information, "Embedded MQTT broker on {Endpoint} stopped")]
    public static partial void EmbeddedBrokerStopped(ILogger logger, string endpoint);

    [LoggerMessage(2032, LogLevel.Warning, "Embedded MQTT broker dropped the oldest message held for '{ClientId}' (limit {MaxPending}); {Dropped} dropped so far")]
    public static partial void EmbeddedBrokerDropped(ILogger logger, string clientId, int maxPending, long dropped);
    [LoggerMessage(2040, LogLevel.Warning, "Spool {Path} full ({Capacity} readings, Publish:SpoolMaxReadings): dropped the oldest; {Dropped} dropped so far")]
    public static partial void SpoolFull(ILogger logger, string path, long capacity, long dropped);

    [LoggerMessage(2041, LogLevel.Information, "Spool {Path}: {Count} reading(s) kept from an earlier run (seq {First} to {Last}), sent first, oldest first, once the broker is reachable")]
    public static partial void SpoolRecovered(ILogger logger, string path, long count, long first, long last);

    [LoggerMessage(2042, LogLevel.Warning, "Spool {Path}: the last record (at byte {Offset}, {Bytes} bytes) is torn, written when the program stopped mid-write; skipped, every reading before it kept")]
    public static partial void SpoolTornRecord(ILogger logger, string path, long offset, long bytes);

    [LoggerMessage(2043, LogLevel.Warning, "Spool {Path}: record at byte {Offset} is damaged ({Problem}); the {Kept} reading(s) before it kept, the {Bytes} bytes from there skipped; the whole file copied to {Aside} for inspection")]
    public static partial void SpoolDamaged(ILogger logger, string path, long offset, string problem, long kept, long bytes, string aside);

    [LoggerMessage(2044, LogLevel.Warning, "Spool {Path} ({Bytes} bytes) is not a spool (bad header); renamed to {Aside} and a new spool started")]
    public static partial void SpoolNotASpool(ILogger logger, string path, long bytes, string aside);

    [LoggerMessage(2045, LogLevel.Warning, "Spool {Path} held more readings than Publish:SpoolMaxReadings {Capacity}: dropped the {Dropped} oldest")]
    public static partial void SpoolOverCapacity(ILogger logger, string path, long dropped, long capacity);

    [LoggerMessage(2046, LogLevel.Error, "Spool {Path} cannot be written ({Cause}): readings are kept in memory only from now on (lost if the program stops before the broker takes them); fix the disk and restart")]
    public static partial void SpoolWriteFailed(ILogger logger, string path, string cause);

    [LoggerMessage(2050, LogLevel.Information, "Home Assistant discovery published on '{Topic}' ({Reason})")]
    public static partial void DiscoveryPublished(ILogger logger, string topic, string reason);

    [LoggerMessage(2051, LogLevel.Warning, "Home Assistant discovery on '{Topic}' failed: {Cause}; published again on the next connection")]
    public static partial void DiscoveryFailed(ILogger logger, string topic, string cause);
}
