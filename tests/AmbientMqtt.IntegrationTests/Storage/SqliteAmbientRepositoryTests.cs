using System.Diagnostics;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using Microsoft.Data.Sqlite;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary>
/// <see cref="SqliteAmbientRepository"/> on a real SQLite file: the shared suite of <see cref="AmbientRepositoryTests"/>,
/// plus what only a file does (its directory, WAL mode, another program holding the write lock, a file that is not a
/// database, the write-ahead log folded in on dispose).
/// </summary>
public sealed class SqliteAmbientRepositoryTests : AmbientRepositoryTests
{
    [Fact]
    public async Task EnsureSchemaAsync_NewFileInMissingDirectory_CreatesDirectoryFileAndTablesInWalMode()
    {
        await using var store = new SqliteStore();
        var path = Path.Combine(store.Directory, "not", "yet", "ambient.db");
        var repository = new SqliteAmbientRepository(new SqliteRepositoryOptions { Path = path });

        await repository.EnsureSchemaAsync(Ct);
        await repository.EnsureSchemaAsync(Ct);
        repository.Dispose();

        repository.DatabasePath.Should().Be(path);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        (await QueryAsync(connection, "PRAGMA journal_mode")).Single()[0].Should().Be("wal");
        (await QueryAsync(connection, "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table' AND m.name LIKE 'Ambient%' ORDER BY m.name, p.cid"))
            .Select(c => string.Join(' ', c)).Should().Equal(
                "Ambient row_id INTEGER 0 1",
                "Ambient timestamp TEXT 1 0",
                "Ambient identifier TEXT 1 0",
                "Ambient temperature REAL 0 0",
                "Ambient humidity REAL 0 0",
                "Ambient pressure REAL 0 0",
                "Ambient timestamp_utc TEXT 1 0",
                "Ambient_5m identifier TEXT 1 1",
                "Ambient_5m bucket_utc TEXT 1 2",
                "Ambient_5m readings INTEGER 1 0",
                "Ambient_5m temperature_sum REAL 1 0",
                "Ambient_5m temperature_min REAL 1 0",
                "Ambient_5m temperature_max REAL 1 0",
                "Ambient_5m humidity_sum REAL 1 0",
                "Ambient_5m humidity_min REAL 1 0",
                "Ambient_5m humidity_max REAL 1 0",
                "Ambient_5m pressure_sum REAL 1 0",
                "Ambient_5m pressure_min REAL 1 0",
                "Ambient_5m pressure_max REAL 1 0",
                "Ambient_rejected row_id INTEGER 0 1",
                "Ambient_rejected received_at TEXT 1 0",
                "Ambient_rejected topic TEXT 1 0",
                "Ambient_rejected payload BLOB 1 0",
                "Ambient_rejected payload_bytes INTEGER 1 0",
                "Ambient_rejected reason TEXT 1 0");
        (await QueryAsync(connection, "SELECT ii.name FROM pragma_index_list('Ambient') AS il JOIN pragma_index_info(il.name) AS ii WHERE il.\"unique\" = 1 ORDER BY ii.seqno"))
            .Select(r => r[0]).Should().Equal("identifier", "timestamp_utc");
        (await QueryAsync(connection, "SELECT sql FROM sqlite_master WHERE name = 'Ambient'")).Single()[0].As<string>()
            .Should().Contain("AUTOINCREMENT").And.Contain("CHECK (length(identifier) <= 64)");
        (await QueryAsync(connection, "SELECT COUNT(*) FROM Ambient")).Single()[0].Should().Be(0L);
    }

    [Fact]
    public async Task WriteBatchAsync_IdentifiersDifferingOnlyInCaseOrTrailingSpace_AreDistinctRows()
    {
        await using var store = new SqliteStore();
        var repository = await CreateRepositoryAsync(store);

        // SQLite compares text exactly, where MariaDB's default collation would take these for one node.
        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59Z", 1, 2, 3, "Node-7"),
                Reading("2024-10-09T06:30:59Z", 4, 5, 6, "node-7"),
                Reading("2024-10-09T06:30:59Z", 7, 8, 9, "Node-7 "),
                Reading("2024-10-09T06:30:59Z", 9, 9, 9, "Node-7"),
            ],
            [],
            Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Duplicate);
        (await store.RowsAsync()).Select(r => r[1]).Should().Equal("Node-7", "node-7", "Node-7 ");
    }

    [Fact]
    public async Task WriteBatchAsync_AnotherProgramHoldsTheWriteLock_WaitsForItThenCommits()
    {
        await using var store = new SqliteStore();
        var repository = await CreateRepositoryAsync(store);
        using var other = store.Open();
        using var transaction = other.BeginTransaction(deferred: false);

        var clock = Stopwatch.StartNew();
        var write = Task.Run(() => repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct), Ct);
        await Task.Delay(600, Ct);
        write.IsCompleted.Should().BeFalse("the batch waits for the other program's transaction");
        transaction.Commit();
        var result = await write;

        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(500));
        result.Inserted.Should().Be(1);
        (await store.RowsAsync()).Should().ContainSingle().Which[0].Should().Be("2024-10-09 15:30:59.000000");
    }

    [Fact]
    public async Task WriteBatchAsync_WriteLockHeldLongerThanBusyTimeout_ThrowsTransientNamingTheFileAndLaterSucceeds()
    {
        await using var store = new SqliteStore();
        var repository = store.Create(null, null, busyTimeout: TimeSpan.FromMilliseconds(300));
        await repository.EnsureSchemaAsync(Ct);
        var other = store.Open();
        var transaction = other.BeginTransaction(deferred: false);

        var failure = await FluentActions.Awaiting(() => repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct))
            .Should().ThrowAsync<AmbientStorageException>();
        transaction.Rollback();
        transaction.Dispose();
        other.Dispose();
        var retried = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        failure.Which.IsTransient.Should().BeTrue();
        failure.Which.Message.Should().Contain(store.DatabasePath).And.Contain("locked").And.Contain("300 ms");
        retried.Inserted.Should().Be(1);
        (await store.ScalarAsync("SELECT COUNT(*) FROM Ambient")).Should().Be(1);
    }

    [Fact]
    public async Task EnsureSchemaAsync_FileIsNotADatabase_ThrowsNonTransientNamingTheFileAndLeavesItAlone()
    {
        await using var store = new SqliteStore();
        var text = "my notes, not a database\n"u8.ToArray();
        await File.WriteAllBytesAsync(store.DatabasePath, text, Ct);
        var repository = store.Create();

        var ensure = await FluentActions.Awaiting(() => repository.EnsureSchemaAsync(Ct)).Should().ThrowAsync<AmbientStorageException>();
        var write = await FluentActions.Awaiting(() => repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct))
            .Should().ThrowAsync<AmbientStorageException>();

        foreach (var exception in new[] { ensure.Which, write.Which })
        {
            exception.IsTransient.Should().BeFalse();
            exception.Message.Should().Contain(store.DatabasePath).And.Contain("not a usable SQLite database");
        }

        (await File.ReadAllBytesAsync(store.DatabasePath, Ct)).Should().Equal(text);
    }

    [Fact]
    public async Task EnsureSchemaAsync_DirectoryCannotBeCreated_ThrowsNonTransientNamingTheDirectory()
    {
        await using var store = new SqliteStore();
        var file = Path.Combine(store.Directory, "a-file");
        await File.WriteAllTextAsync(file, "x", Ct);
        var path = Path.Combine(file, "sub", "ambient.db");
        var repository = new SqliteAmbientRepository(new SqliteRepositoryOptions { Path = path });

        var ensure = await FluentActions.Awaiting(() => repository.EnsureSchemaAsync(Ct)).Should().ThrowAsync<AmbientStorageException>();

        ensure.Which.IsTransient.Should().BeFalse();
        ensure.Which.Message.Should().StartWith($"SQLite database {path}: cannot create the directory {Path.Combine(file, "sub")}");
        (await File.ReadAllTextAsync(file, Ct)).Should().Be("x");
    }

    [Fact]
    public async Task Dispose_AfterWrites_FoldsTheWriteAheadLogIntoTheFile()
    {
        await using var store = new SqliteStore();
        var repository = store.Create(null, null, null);
        await repository.EnsureSchemaAsync(Ct);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3), Reading("2024-10-09T06:31:09Z", 4, 5, 6)], [], Ct);
        File.Exists(store.DatabasePath + "-wal").Should().BeTrue("the pooled connection keeps the log open");

        repository.Dispose();

        File.Exists(store.DatabasePath + "-wal").Should().BeFalse();

        // Only the main file: what a copy of ambient.db alone would hold.
        var copy = Path.Combine(store.Directory, "copy.db");
        File.Copy(store.DatabasePath, copy);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync(Ct);
        (await QueryAsync(connection, "SELECT temperature FROM Ambient ORDER BY row_id")).Select(r => r[0]).Should().Equal(1.0, 4.0);
        await FluentActions.Awaiting(() => repository.WriteBatchAsync([Reading("2024-10-09T06:31:19Z", 1, 2, 3)], [], Ct))
            .Should().ThrowAsync<ObjectDisposedException>();
    }

    [Theory]
    [InlineData("", "Database:Path: is empty*")]
    [InlineData("  ", "Database:Path: is empty*")]
    [InlineData("data/ambient/", "Database:Path: 'data/ambient/' is not a file path*")]
    public void Constructor_PathThatIsNotAFile_ThrowsNamingTheKey(string path, string message)
    {
        var create = () => new SqliteAmbientRepository(new SqliteRepositoryOptions { Path = path });

        create.Should().Throw<ArgumentException>().WithMessage(message);
    }

    [Fact]
    public void DatabasePath_NoPathConfigured_IsAmbientDbInTheUsersDataDirectory()
    {
        var repository = new SqliteAmbientRepository(new SqliteRepositoryOptions());

        var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        repository.DatabasePath.Should().Be(Path.Combine(data, "AmbientMqtt", "ambient.db"));
        SqliteRepositoryOptions.DefaultPath.Should().Be(repository.DatabasePath);
    }

    /// <inheritdoc/>
    protected override Task<RepositoryStore> CreateStoreAsync() => Task.FromResult<RepositoryStore>(new SqliteStore());

    private static async Task<List<object[]>> QueryAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<object[]>();
        while (await reader.ReadAsync(Ct))
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(values);
        }

        return rows;
    }
}
