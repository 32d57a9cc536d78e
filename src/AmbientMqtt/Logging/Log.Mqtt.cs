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
    public static partial void PublishQueueFull(ILogger logger, int capacity, long dropped);

    [LoggerMessage(2011, LogLevel.Error, "MQTT broker {Endpoint} refused a message on '{Topic}': {Reason}; the message is dropped")]
    public static partial void PublishRefused(ILogger logger, string endpoint, string topic, string reason);

    [LoggerMessage(2012, LogLevel.Information, "Publishing to {Endpoint} again; {Pending} queued message(s) to send")]
    public static partial void PublishResumed(ILogger logger, string endpoint, int pending);

    [LoggerMessage(2020, LogLevel.Information, "Subscribed to '{Topic}' on {Endpoint} with QoS {Qos} as '{ClientId}'")]
    public static partial void Subscribed(ILogger logger, string topic, string endpoint, int qos, string clientId);

    [LoggerMessage(2021, LogLevel.Information, "The broker had no session for '{ClientId}': messages published while it was away were not kept for it")]
    public static partial void NoSession(ILogger logger, string clientId);

    [LoggerMessage(2022, LogLevel.Debug, "Could not acknowledge a message: the connection it came on is gone; the broker will deliver it again")]
    public static partial void StaleAck(ILogger logger);

    [LoggerMessage(2030, LogLevel.Information, "Embedded MQTT broker listening on {Endpoint} (loopback only, persistent sessions, up to {MaxPending} messages held per subscriber)")]
    public static partial void EmbeddedBrokerStarted(ILogger logger, string endpoint, int maxPending);

    [LoggerMessage(2031, LogLevel.Information, "Embedded MQTT broker on {Endpoint} stopped")]
    public static partial void EmbeddedBrokerStopped(ILogger logger, string endpoint);

    [LoggerMessage(2032, LogLevel.Warning, "Embedded MQTT broker dropped the oldest message held for '{ClientId}' (limit {MaxPending}); {Dropped} dropped so far")]
    public static partial void EmbeddedBrokerDropped(ILogger logger, string clientId, int maxPending, long dropped);
}
