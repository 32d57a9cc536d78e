namespace AmbientMqtt.Storage;

/// <summary>
/// Settings of <see cref="MariaDbAmbientRepository"/>. The connection itself (server, user, password, database) comes
/// with the <c>MySqlDataSource</c> the repository is given.
/// </summary>
public sealed class MariaDbRepositoryOptions : AmbientTableOptions
{
    /// <summary>Checks the settings; each problem names its configuration key (<c>Database:Table</c>,
    /// <c>Database:TimeZone</c>, <c>Identifier</c>, <c>Database:MaxRejectedPayloadBytes</c>).</summary>
    /// <param name="section">The configuration section the options were bound from, used in the messages.</param>
    /// <returns>The problems found; empty when the settings are usable.</returns>
    public IReadOnlyList<string> Validate(string section = "Database")
    {
        var errors = new List<string>();
        ValidateTable(errors, section);
        return errors;
    }
}
