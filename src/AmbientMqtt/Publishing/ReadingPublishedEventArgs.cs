namespace AmbientMqtt.Publishing;

/// <summary>
/// A reading was taken and handed to the publisher.
/// </summary>
public sealed class ReadingPublishedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="reading">The reading as published, with <see cref="PublishOptions.Identifier"/> applied.</param>
    public ReadingPublishedEventArgs(AmbientReading reading)
    {
        Reading = reading;
    }

    /// <summary>Gets the reading as published, with <see cref="PublishOptions.Identifier"/> applied. A JSON publisher sends
    /// <see cref="AmbientPayload.EncodeToString"/> of it.</summary>
    public AmbientReading Reading { get; }
}
