namespace AmbientMqtt.Storage;

/// <summary>
/// Settings of <see cref="MariaDbAmbientRepository"/>. The connection itself (server, user, password, database) comes
/// with the <c>MySqlDataSource</c> the repository is given.
/// </summary>
public sealed class MariaDbRepositoryOptions : AmbientTableOptions
{
}
