namespace AmbientMqtt.Storage;

/// <summary>
/// Settings of <see cref="SqliteAmbientRepository"/>: where the database file is, and the same table, time zone,
/// identifier and dead-letter settings as <see cref="MariaDbRepositoryOptions"/>. Bound to the <c>Database</c>
/// configuration section (<c>Database:Path</c>, <c>Database:Table</c>, …).
/// </summary>
public sealed class SqliteRepositoryOptions : AmbientTableOptions
{
    /// <summary>The file name of the database when <see cref="Path"/> is not set.</summary>
    public const string DefaultFileName = "ambient.db";

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

    /// <summary>Gets or sets how long a write waits for another connection (another program on the same file) to finish
    /// its transaction before the batch fails as transient, to be retried.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The full path of the database file these options name.</summary>
    internal string FullPath() => System.IO.Path.GetFullPath(Path ?? DefaultPath);
}
