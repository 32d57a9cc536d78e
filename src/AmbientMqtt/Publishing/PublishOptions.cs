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

    /// <summary>Checks the settings; each problem names its configuration key.</summary>
    /// <param name="section">The configuration section the options were bound from, used in the messages.</param>
    /// <returns>The problems found; empty when the settings are usable.</returns>
    public IReadOnlyList<string> Validate(string section = "Publish")
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.FromMilliseconds(10) || Interval > TimeSpan.FromDays(1))
        {
            errors.Add($"{section}:Interval: must be between 00:00:00.010 and 1.00:00:00 (got {Interval})");
        }

        if (Identifier is not null && AmbientPayload.CheckIdentifier(Identifier) is { } problem)
        {
            errors.Add($"{section}:Identifier: {problem.Replace("field 'identifier': ", string.Empty, StringComparison.Ordinal)}");
        }

        return errors;
    }
}
