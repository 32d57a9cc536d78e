using AmbientMqtt.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>A SQLite file of its own in a temporary directory (not created until a repository writes), for the shared
/// repository tests; the directory is deleted on dispose.</summary>
public sealed class SqliteStore : RepositoryStore
{
    private readonly List<SqliteAmbientRepository> _repositories = [];

    /// <summary>Initializes a store in a fresh temporary directory.</summary>
    public SqliteStore()
    {
        Directory = Path.Combine(Path.GetTempPath(), "ambient-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        DatabasePath = Path.Combine(Directory, "ambient.db");
    }

    /// <summary>Gets the temporary directory.</summary>
    public string Directory { get; }

    /// <summary>Gets the database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc/>
    public override string CreateTableWithoutUniqueKeySql =>
        "CREATE TABLE \"Ambient\" (row_id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL, identifier TEXT NOT NULL, temperature REAL, humidity REAL, pressure REAL); CREATE INDEX ix_timestamp ON \"Ambient\" (timestamp)";

    /// <inheritdoc/>
    public override string FirstWaveTableSql =>
        "CREATE TABLE \"Ambient\" (row_id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL, identifier TEXT NOT NULL CONSTRAINT ck_identifier_length CHECK (length(identifier) <= 64), temperature REAL, humidity REAL, pressure REAL, CONSTRAINT ux_identifier_timestamp UNIQUE (identifier, timestamp))";

    /// <inheritdoc/>
    public override int MissingUniqueKeyEventId => 3011;

    /// <inheritdoc/>
    public override string RefusedIdentifierReason => "CHECK constraint failed: ck_identifier_length";

    /// <inheritdoc/>
    public override IAmbientRepository Create(RepositorySettings? settings = null, ILogger? logger = null) =>
        Create(settings, logger, null);

    /// <summary>Makes a repository on this file with a given busy timeout.</summary>
    /// <param name="settings">The settings; the defaults when omitted.</param>
    /// <param name="logger">Where the repository logs.</param>
    /// <param name="busyTimeout">How long a write waits for another writer; the default when omitted.</param>
    /// <returns>The repository, disposed with the store.</returns>
    public SqliteAmbientRepository Create(RepositorySettings? settings, ILogger? logger, TimeSpan? busyTimeout)
    {
        settings ??= new RepositorySettings();
        var options = new SqliteRepositoryOptions
        {
            Path = DatabasePath,
            Table = settings.Table,
            TimeZone = settings.TimeZone,
            Identifier = settings.Identifier,
            MaxRejectedPayloadBytes = settings.MaxRejectedPayloadBytes,
            UpgradeTable = settings.UpgradeTable,
        };
        if (busyTimeout is { } timeout)
        {
            options.BusyTimeout = timeout;
        }

        var repository = new SqliteAmbientRepository(options, logger is null ? null : new LoggerOf<SqliteAmbientRepository>(logger));
        _repositories.Add(repository);
        return repository;
    }

    /// <summary>Opens a connection of the test's own (not pooled, so it closes for real).</summary>
    /// <returns>The open connection.</returns>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <inheritdoc/>
    public override Task<List<object[]>> QueryAsync(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object[]>();
        while (reader.Read())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(values);
        }

        return Task.FromResult(rows);
    }

    /// <inheritdoc/>
    public override Task ExecuteAsync(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override async Task<long> TableCountAsync() =>
        File.Exists(DatabasePath)
            ? await ScalarAsync("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
            : 0;

    /// <inheritdoc/>
    public override ValueTask DisposeAsync()
    {
        foreach (var repository in _repositories)
        {
            repository.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: it is a temporary directory.
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    protected override string RowsSql(string table) =>
        $"SELECT timestamp, identifier, temperature, humidity, pressure FROM \"{table}\" ORDER BY row_id";

    /// <inheritdoc/>
    protected override string UtcRowsSql(string table) =>
        $"SELECT timestamp_utc, seq FROM \"{table}\" ORDER BY row_id";

    /// <inheritdoc/>
    protected override string DeadLettersSql(string table) =>
        $"SELECT received_at, topic, payload, payload_bytes, reason FROM \"{table}\" ORDER BY row_id";
}
