namespace AmbientMqtt.Mqtt;

/// <summary>
/// The broker refused the subscription (a topic filter it does not accept, an ACL that does not allow it, shared
/// subscriptions it does not support): a setting to change, not something retrying fixes. A program stops with exit
/// code 2 on it.
/// </summary>
public sealed class MqttSubscriptionRefusedException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public MqttSubscriptionRefusedException()
    {
    }

    /// <summary>Initializes a new instance with a message that names the filter, the broker's reason and the key to change.</summary>
    /// <param name="message">What was refused and why.</param>
    public MqttSubscriptionRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the underlying cause.</summary>
    /// <param name="message">What was refused and why.</param>
    /// <param name="innerException">The underlying cause.</param>
    public MqttSubscriptionRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
