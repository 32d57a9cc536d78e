namespace AmbientMqtt.Mqtt;

/// <summary>
/// The broker refused the connection for a reason that retrying will not fix (bad user name or password, not
/// authorized, client id refused).
/// </summary>
public sealed class MqttConnectionException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public MqttConnectionException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What the broker said and what to check.</param>
    public MqttConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the underlying cause.</summary>
    /// <param name="message">What the broker said and what to check.</param>
    /// <param name="innerException">The underlying cause.</param>
    public MqttConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
