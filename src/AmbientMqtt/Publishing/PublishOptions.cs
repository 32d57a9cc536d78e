namespace AmbientMqtt.Publishing;

/// <summary>
/// How often to take and publish a reading. Bound to the <c>Publish</c> configuration section.
/// </summary>
public sealed class PublishOptions
{
    /// <summary>Gets or sets the time between two readings.</summary>
    /// <value>The default value is 5 seconds, as the tutorial's <c>time.sleep(5)</c>.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the identifier sent in each payload (the <c>identifier</c> field). When unset, the payload
    /// has none, as the tutorial's, and the receiver stores its own configured identifier.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Identifier { get; set; }
}
