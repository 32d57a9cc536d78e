namespace AmbientMqtt.Storage;

/// <summary>
/// What every repository's settings share: the table, the time zone of its <c>timestamp</c> column, the identifier of
/// readings that name none, and how much of a rejected payload the dead-letter table keeps. Bound to the
/// <c>Database</c> configuration section, except <see cref="Identifier"/>, which samples read from the top-level
/// <c>Identifier</c> key.
/// </summary>
public abstract class AmbientTableOptions
{
    /// <summary>The largest value <see cref="MaxRejectedPayloadBytes"/> accepts (1 MiB), so one dead-letter row always
    /// fits in a statement under MariaDB's default <c>max_allowed_packet</c>.</summary>
    public const int MaxRejectedPayloadBytesLimit = TableOptionsValidation.MaxRejectedPayloadBytesLimit;

    /// <summary>
    /// Gets or sets the name of the table that holds one row per reading. The dead-letter table is named after it with a
    /// <c>_rejected</c> suffix. It must be a plain identifier: a letter or underscore, then up to 54 letters, digits or
    /// underscores (so that the dead-letter table's name stays within MariaDB's 64 characters, and a name works with
    /// every database).
    /// </summary>
    /// <value>The default value is <c>Ambient</c>, the tutorial's table.</value>
    public string Table { get; set; } = "Ambient";

    /// <summary>
    /// Gets or sets the time zone whose wall-clock time the <c>timestamp</c> column holds: an IANA time zone id
    /// (<c>Europe/Berlin</c>) or <c>UTC</c>.
    /// </summary>
    /// <value>The default value is <c>Asia/Tokyo</c>, as in the tutorial; <c>UTC</c> is recommended outside Japan.</value>
    public string TimeZone { get; set; } = "Asia/Tokyo";

    /// <summary>Gets or sets the node identifier stored with a reading that does not name its own.</summary>
    /// <value>The default value is <c>tochigi_iot_899</c>, the tutorial's node.</value>
    public string Identifier { get; set; } = "tochigi_iot_899";

    /// <summary>
    /// Gets or sets how many bytes of a rejected payload the dead-letter table keeps; a longer payload is stored as its
    /// prefix, together with its original length.
    /// </summary>
    /// <value>The default value is 16384 (16 KiB). It must lie between 0 and <see cref="MaxRejectedPayloadBytesLimit"/>.</value>
    public int MaxRejectedPayloadBytes { get; set; } = 16384;
}
