namespace AmbientMqtt;

/// <summary>
/// A sensor could not be opened or read. The message says what went wrong and what to do about it.
/// </summary>
public sealed class SensorException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public SensorException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public SensorException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the underlying cause.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The underlying cause.</param>
    public SensorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
