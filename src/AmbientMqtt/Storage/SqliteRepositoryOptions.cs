using System.ComponentModel.DataAnnotations;

namespace AmbientMqtt.Storage;

/// <summary>
/// Settings of <see cref="SqliteAmbientRepository"/>: where the database file is, and the same table, time zone,
/// identifier and dead-letter settings as <see cref="MariaDbRepositoryOptions"/>. Bound to the <c>Database</c>
/// configuration section (<c>Database:Path</c>, <c>Database:Table</c>, …).
/// </summary>
public sealed class SqliteRepositoryOptions
{
    /// <summary>The file name of the database when <see cref="Path"/> is not set.</summary>
    public const string DefaultFileName = "ambient.db";

    /// <summary>The largest value <see cref="MaxRejectedPayloadBytes"/> accepts (1 MiB).</summary>
    public const int MaxRejectedPayloadBytesLimit = TableOptionsValidation.MaxRejectedPayloadBytesLimit;

    /// <summary>
    /// Gets the database file used when <see cref="Path"/> is not set: <c>AmbientMqtt/ambient.db</c> in the user's local
    /// data directory (<c>~/.local/share/AmbientMqtt/ambient.db</c> on Linux, <c>%LOCALAPPDATA%\AmbientMqtt\ambient.db</c>
    /// on Windows), so that every run of a program, whatever its working directory, adds to the same file; or
    /// <c>ambient.db</c> in the current directory when the system names no such directory.
    /// </summary>
    public static string DefaultPath
    {
        get
        {
            var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
            return string.IsNullOrEmpty(data)
                ? System.IO.Path.GetFullPath(DefaultFileName)
                : System.IO.Path.Combine(data, "AmbientMqtt", DefaultFileName);
        }
    }

    /// <summary>
    /// Gets or sets the database file. A relative path is taken from the current directory. The file, and its
    /// directory, are created when missing.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="DefaultPath"/>.</value>
    public string? Path { get; set; }

    /// <summary>
    /// Gets or sets the name of the table that holds one row per reading; the dead-letter table is named after it with a
    /// <c>_rejected</c> suffix. It must be a plain identifier: a letter or underscore, then up to 54 letters, digits or
    /// underscores (the same rule as for MariaDB, so that a name works with both).
    /// </summary>
    /// <value>The default value is <c>Ambient</c>, the tutorial's table.</value>
    [Required]
    [RegularExpression(TableOptionsValidation.TableNamePattern)]
    public string Table { get; set; } = "Ambient";

    /// <summary>Gets or sets the time zone whose wall-clock time the <c>timestamp</c> column holds: an IANA time zone id
    /// (<c>Europe/Berlin</c>) or <c>UTC</c>.</summary>
    /// <value>The default value is <c>Asia/Tokyo</c>, as in the tutorial; <c>UTC</c> is recommended outside Japan.</value>
    [Required]
    public string TimeZone { get; set; } = "Asia/Tokyo";

    /// <summary>Gets or sets the node identifier stored with a reading that does not name its own.</summary>
    /// <value>The default value is <c>tochigi_iot_899</c>, the tutorial's node.</value>
    [Required]
    [StringLength(AmbientPayload.MaxIdentifierLength, MinimumLength = 1)]
    public string Identifier { get; set; } = "tochigi_iot_899";

    /// <summary>Gets or sets how many bytes of a rejected payload the dead-letter table keeps; a longer payload is stored
    /// as its prefix, together with its original length.</summary>
    /// <value>The default value is 16384 (16 KiB). It must lie between 0 and <see cref="MaxRejectedPayloadBytesLimit"/>.</value>
    [Range(0, MaxRejectedPayloadBytesLimit)]
    public int MaxRejectedPayloadBytes { get; set; } = 16384;

    /// <summary>Gets or sets how long a write waits for another connection (another program on the same file) to finish
    /// its transaction before the batch fails as transient, to be retried.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the settings; each problem names its configuration key (<c>Database:Path</c>,
    /// <c>Database:Table</c>, <c>Database:TimeZone</c>, <c>Identifier</c>, <c>Database:MaxRejectedPayloadBytes</c>,
    /// <c>Database:BusyTimeout</c>).</summary>
    /// <param name="section">The configuration section the options were bound from, used in the messages.</param>
    /// <returns>The problems found; empty when the settings are usable.</returns>
    public IReadOnlyList<string> Validate(string section = "Database")
    {
        var errors = new List<string>();
        if (Path is not null)
        {
            if (string.IsNullOrWhiteSpace(Path))
            {
                errors.Add($"{section}:Path: is empty; leave it out for {DefaultPath}");
            }
            else if (Path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0 || Path.EndsWith('/') || Path.EndsWith(System.IO.Path.DirectorySeparatorChar))
            {
                errors.Add($"{section}:Path: '{Path}' is not a file path");
            }
        }

        TableOptionsValidation.Validate(errors, section, Table, TimeZone, Identifier, MaxRejectedPayloadBytes);
        if (BusyTimeout < TimeSpan.Zero || BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            errors.Add($"{section}:BusyTimeout: must be between 00:00:00 and 24.20:31:23 (got {BusyTimeout})");
        }

        return errors;
    }

    /// <summary>The full path of the database file these options name.</summary>
    internal string FullPath() => System.IO.Path.GetFullPath(Path ?? DefaultPath);
}
