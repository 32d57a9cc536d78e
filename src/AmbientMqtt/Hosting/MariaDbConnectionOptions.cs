namespace AmbientMqtt.Hosting;

/// <summary>
/// <c>Database:ConnectionString</c>, which becomes the <see cref="MySqlConnector.MySqlDataSource"/> the repository uses.
/// Kept apart from <see cref="Storage.MariaDbRepositoryOptions"/>, whose repository is handed a data source.
/// </summary>
internal sealed class MariaDbConnectionOptions
{
    /// <summary>The tutorial's database and user on the local server.</summary>
    public const string DefaultConnectionString = "Server=localhost;Port=3306;Database=iot_storage;User ID=iot";

    public string? ConnectionString { get; set; } = DefaultConnectionString;
}
