namespace AmbientMqtt.Mqtt;

/// <summary>
/// The embedded broker could not start: its port is taken by another program, or may not be used by this user.
/// </summary>
public sealed class EmbeddedBrokerException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public EmbeddedBrokerException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public EmbeddedBrokerException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the underlying cause.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The underlying cause.</param>
    public EmbeddedBrokerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
