namespace AmbientMqtt;

/// <summary>
/// A payload could not be read as an <see cref="AmbientReading"/>. <see cref="Exception.Message"/> names the field and
/// the problem, for instance <c>field 'temperature': expected a number, got a string</c>.
/// </summary>
public sealed class AmbientPayloadException : FormatException
{
    /// <summary>Initializes a new instance.</summary>
    public AmbientPayloadException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The field and the problem.</param>
    public AmbientPayloadException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the underlying cause.</summary>
    /// <param name="message">The field and the problem.</param>
    /// <param name="innerException">The underlying cause.</param>
    public AmbientPayloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
