using AmbientMqtt.Storage;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>A database of its own on the shared MariaDB server (<see cref="TestDatabase"/>), for the shared repository tests.</summary>
public sealed class MariaDbStore(TestDatabase database) : RepositoryStore
{
    /// <summary>Gets the database.</summary>
    public TestDatabase Database { get; } = database;

    /// <inheritdoc/>
    public override string CreateTableWithoutUniqueKeySql =>
        "CREATE TABLE `Ambient` (row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, timestamp DATETIME(6) NOT NULL, identifier VARCHAR(64) NOT NULL, temperature DOUBLE, humidity DOUBLE, pressure DOUBLE, KEY ix_timestamp (timestamp)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

    /// <inheritdoc/>
    public override string FirstWaveTableSql =>
        "CREATE TABLE `Ambient` (row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, timestamp DATETIME(6) NOT NULL, identifier VARCHAR(64) NOT NULL, temperature DOUBLE, humidity DOUBLE, pressure DOUBLE, UNIQUE KEY ux_identifier_timestamp (identifier, timestamp)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

    /// <inheritdoc/>
    public override int MissingUniqueKeyEventId => 3001;

    /// <inheritdoc/>
    public override string RefusedIdentifierReason => "Data too long for column 'identifier'";

    /// <summary>Creates the database on the fixture's server.</summary>
    /// <param name="fixture">The shared server.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The store.</returns>
    public static async Task<MariaDbStore> CreateAsync(MariaDbFixture fixture, CancellationToken cancellationToken) =>
        new(await fixture.CreateDatabaseAsync(cancellationToken));

    /// <inheritdoc/>
    public override IAmbientRepository Create(RepositorySettings? settings = null, ILogger? logger = null)
    {
        settings ??= new RepositorySettings();
        return new MariaDbAmbientRepository(
            Database.DataSource,
            new MariaDbRepositoryOptions
            {
                Table = settings.Table,
                TimeZone = settings.TimeZone,
                Identifier = settings.Identifier,
                MaxRejectedPayloadBytes = settings.MaxRejectedPayloadBytes,
                UpgradeTable = settings.UpgradeTable,
            },
            logger is null ? null : new LoggerOf<MariaDbAmbientRepository>(logger));
    }

    /// <inheritdoc/>
    public override Task<List<object[]>> QueryAsync(string sql) => Database.QueryAsync(sql);

    /// <inheritdoc/>
    public override Task ExecuteAsync(string sql) => Database.ExecuteAsync(sql);

    /// <inheritdoc/>
    public override Task<long> TableCountAsync() =>
        Database.ScalarAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{Database.Name}'");

    /// <inheritdoc/>
    public override ValueTask DisposeAsync() => Database.DisposeAsync();

    /// <inheritdoc/>
    protected override string RowsSql(string table) =>
        $"SELECT DATE_FORMAT(timestamp, '%Y-%m-%d %H:%i:%s.%f'), identifier, temperature, humidity, pressure FROM `{table}` ORDER BY row_id";

    /// <inheritdoc/>
    protected override string UtcRowsSql(string table) =>
        $"SELECT DATE_FORMAT(timestamp_utc, '%Y-%m-%d %H:%i:%s.%f'), seq FROM `{table}` ORDER BY row_id";

    /// <inheritdoc/>
    protected override string DeadLettersSql(string table) =>
        $"SELECT DATE_FORMAT(received_at, '%Y-%m-%d %H:%i:%s.%f'), topic, payload, payload_bytes, reason FROM `{table}` ORDER BY row_id";
}
