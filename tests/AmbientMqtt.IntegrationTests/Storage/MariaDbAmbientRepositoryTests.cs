using System.Globalization;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary>
/// <see cref="MariaDbAmbientRepository"/> against a real MariaDB server: the shared suite of
/// <see cref="AmbientRepositoryTests"/>, plus what only a server does (the exact column types, the table's collation,
/// a server stopped, killed or restarted, a connection killed mid-batch, a wrong password, a missing database).
/// </summary>
public sealed class MariaDbAmbientRepositoryTests(MariaDbFixture fixture) : AmbientRepositoryTests
{
    private const string SelectRows =
        "SELECT DATE_FORMAT(timestamp, '%Y-%m-%d %H:%i:%s.%f'), identifier, temperature, humidity, pressure FROM `Ambient` ORDER BY row_id";

    [Fact]
    public async Task EnsureSchemaAsync_EmptyDatabase_CreatesTableKeyedOnTheInstantDeadLetterAndSummaryTables()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions());

        await repository.EnsureSchemaAsync(Ct);
        await repository.EnsureSchemaAsync(Ct);

        var columns = await db.QueryAsync(
            $"SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{db.Name}' ORDER BY TABLE_NAME, ORDINAL_POSITION");
        columns.Select(c => string.Join(' ', c.Select(v => v.ToString()!.Trim())).TrimEnd()).Should().Equal(
            "Ambient row_id bigint(20) unsigned NO auto_increment",
            "Ambient timestamp datetime(6) NO",
            "Ambient identifier varchar(64) NO",
            "Ambient temperature double YES",
            "Ambient humidity double YES",
            "Ambient pressure double YES",
            "Ambient timestamp_utc datetime(6) NO",
            "Ambient_5m identifier varchar(64) NO",
            "Ambient_5m bucket_utc datetime NO",
            "Ambient_5m readings int(10) unsigned NO",
            "Ambient_5m temperature_sum double NO",
            "Ambient_5m temperature_min double NO",
            "Ambient_5m temperature_max double NO",
            "Ambient_5m humidity_sum double NO",
            "Ambient_5m humidity_min double NO",
            "Ambient_5m humidity_max double NO",
            "Ambient_5m pressure_sum double NO",
            "Ambient_5m pressure_min double NO",
            "Ambient_5m pressure_max double NO",
            "Ambient_rejected row_id bigint(20) unsigned NO auto_increment",
            "Ambient_rejected received_at datetime(6) NO",
            "Ambient_rejected topic varchar(255) NO",
            "Ambient_rejected payload mediumblob NO",
            "Ambient_rejected payload_bytes int(11) NO",
            "Ambient_rejected reason varchar(1024) NO");

        var uniqueKey = await db.QueryAsync(
            $"SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{db.Name}' AND TABLE_NAME = 'Ambient' AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY' ORDER BY SEQ_IN_INDEX");
        uniqueKey.Select(k => $"{k[0]}.{k[1]}").Should().Equal("ux_identifier_timestamp_utc.identifier", "ux_identifier_timestamp_utc.timestamp_utc");
        (await db.QueryAsync($"SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{db.Name}' AND COLUMN_NAME = 'identifier' ORDER BY TABLE_NAME"))
            .Select(r => r[0]).Should().Equal("utf8mb4_nopad_bin", "utf8mb4_nopad_bin");

        var tables = await db.QueryAsync($"SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}' ORDER BY TABLE_NAME");
        tables.Should().AllSatisfy(t =>
        {
            t[1].Should().Be("InnoDB");
            t[2].As<string>().Should().StartWith("utf8mb4");
        });
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(0);
    }

    [Fact]
    public async Task WriteBatchAsync_IdentifiersDifferingOnlyInCaseAccentOrTrailingSpace_AreDistinctNodes()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);

        // utf8mb4's default collation would take these for one node and drop all but the first reading; the table's
        // identifier column compares exactly (utf8mb4_nopad_bin), as SQLite does.
        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59Z", 1, 2, 3, "Node-7"),
                Reading("2024-10-09T06:30:59Z", 4, 5, 6, "node-7"),
                Reading("2024-10-09T06:30:59Z", 7, 8, 9, "Node-7 "),
                Reading("2024-10-09T06:30:59Z", 1, 1, 1, "café"),
                Reading("2024-10-09T06:30:59Z", 2, 2, 2, "cafe"),
            ],
            [],
            Ct);

        result.Rows.Select(r => r.Outcome).Should().AllBeEquivalentTo(RowOutcome.Inserted);
        (await db.QueryAsync(SelectRows)).Select(r => r[1]).Should().Equal("Node-7", "node-7", "Node-7 ", "café", "cafe");
    }

    [Fact]
    public async Task WriteBatchAsync_ServerStoppedOrKilledThenRestarted_ThrowsTransientThenSucceedsAndKeepsCommittedRows()
    {
        ServerEnvironment.RequirePrivateMariaDb();
        await using var server = await PrivateMariaDb.StartNewAsync(Ct);
        await using var dataSource = new MySqlDataSource(server.ConnectionString);
        var repository = new MariaDbAmbientRepository(dataSource, new MariaDbRepositoryOptions());
        await repository.EnsureSchemaAsync(Ct);
        var start = Instant.FromUtc(2024, 10, 9, 6, 0);
        AmbientReading[] Batch(int first) => [.. Enumerable.Range(first, 3).Select(i => new AmbientReading(start + Duration.FromSeconds(i * 10), i, 50, 1000))];
        (await repository.WriteBatchAsync(Batch(0), [], Ct)).Inserted.Should().Be(3);

        await server.StopAsync();
        var whileStopped = await FluentActions.Awaiting(() => repository.WriteBatchAsync(Batch(3), [], Ct))
            .Should().ThrowAsync<AmbientStorageException>();
        whileStopped.Which.IsTransient.Should().BeTrue();
        whileStopped.Which.Message.Should().Contain($"127.0.0.1:{server.Port}").And.Contain("not reachable").And.NotContain(server.Password);

        await server.StartAsync(Ct);
        (await repository.WriteBatchAsync(Batch(3), [], Ct)).Inserted.Should().Be(3);

        await server.KillAsync();
        var whileKilled = await FluentActions.Awaiting(() => repository.WriteBatchAsync(Batch(6), [], Ct))
            .Should().ThrowAsync<AmbientStorageException>();
        whileKilled.Which.IsTransient.Should().BeTrue();

        await server.StartAsync(Ct);
        var afterCrash = await repository.WriteBatchAsync([.. Batch(3), .. Batch(6)], [], Ct);

        afterCrash.Rows.Select(r => r.Outcome).Should().Equal(
            RowOutcome.Duplicate, RowOutcome.Duplicate, RowOutcome.Duplicate, RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Inserted);
        await using var connection = await dataSource.OpenConnectionAsync(Ct);
        await using var command = new MySqlCommand("SELECT temperature FROM `Ambient` ORDER BY timestamp", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var temperatures = new List<double>();
        while (await reader.ReadAsync(Ct))
        {
            temperatures.Add(reader.GetDouble(0));
        }

        temperatures.Should().Equal(0, 1, 2, 3, 4, 5, 6, 7, 8);
    }

    [Fact]
    public async Task WriteBatchAsync_ConnectionKilledMidBatch_RetriesOnceOnAFreshConnectionAndCommits()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var logger = new CapturingLogger<MariaDbAmbientRepository>();
        var repository = await CreateRepositoryAsync(db, logger: logger);

        // Another transaction holds the unique key of the first reading, so the batch's insert waits on it mid-batch.
        await using var blocker = await db.DataSource.OpenConnectionAsync(Ct);
        await using var blockerTransaction = await blocker.BeginTransactionAsync(Ct);
        await using (var insert = new MySqlCommand(
            "INSERT INTO `Ambient` (timestamp, identifier, temperature, timestamp_utc) VALUES ('2024-10-09 15:30:59', 'tochigi_iot_899', 99, '2024-10-09 06:30:59')", blocker, blockerTransaction))
        {
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var write = repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3), Reading("2024-10-09T06:31:09Z", 4, 5, 6)], [], Ct);
        var waiting = await WaitForWaitingInsertAsync(db, count: 1);
        await db.ExecuteAsync($"KILL CONNECTION {waiting[0]}");
        // The killed connection can linger in the process list for a moment: wait for another one.
        var retrying = await WaitForWaitingInsertAsync(db, count: 1, except: waiting);
        await blockerTransaction.RollbackAsync(Ct);
        var result = await write;

        retrying.Should().NotEqual(waiting, "the retry runs on a fresh connection");
        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Inserted, RowOutcome.Inserted);
        (await db.QueryAsync(SelectRows)).Select(r => r[2]).Should().Equal(1.0, 4.0);
        logger.Entries.Should().ContainSingle(e => e.EventId == 3004);
    }

    [Fact]
    public async Task WriteBatchAsync_WrongPassword_ThrowsNonTransientOneLineMessageWithoutThePassword()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var password = "Wr0ng-" + Guid.NewGuid().ToString("N");
        var dataSource = db.CreateDataSource(b => b.Password = password);
        var repository = new MariaDbAmbientRepository(dataSource, new MariaDbRepositoryOptions());
        var server = new MySqlConnectionStringBuilder(db.ConnectionString);

        var write = await FluentActions.Awaiting(() => repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct))
            .Should().ThrowAsync<AmbientStorageException>();
        var ensure = await FluentActions.Awaiting(() => repository.EnsureSchemaAsync(Ct))
            .Should().ThrowAsync<AmbientStorageException>();

        foreach (var exception in new[] { write.Which, ensure.Which })
        {
            exception.IsTransient.Should().BeFalse();
            exception.Message.Should().Contain("Access denied").And.Contain($"{server.Server}:{server.Port}").And.NotContain("\n");
            exception.ToString().Should().NotContain(password);
        }

        (await db.ScalarAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}'")).Should().Be(0);
    }

    [Fact]
    public async Task WriteBatchAsync_UnknownDatabase_ThrowsNonTransientNamingTheDatabase()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var missing = db.Name + "_missing";
        var repository = new MariaDbAmbientRepository(db.CreateDataSource(b => b.Database = missing), new MariaDbRepositoryOptions());

        var write = await FluentActions.Awaiting(() => repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct))
            .Should().ThrowAsync<AmbientStorageException>();

        write.Which.IsTransient.Should().BeFalse();
        write.Which.Message.Should().Contain(missing);
        (await db.ScalarAsync($"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{missing}'")).Should().Be(0);
    }

    /// <inheritdoc/>
    protected override async Task<RepositoryStore> CreateStoreAsync() => await MariaDbStore.CreateAsync(fixture, Ct);

    private static async Task<List<long>> WaitForWaitingInsertAsync(TestDatabase db, int count, IReadOnlyCollection<long>? except = null)
    {
        for (var i = 0; i < 400; i++)
        {
            var ids = (await db.QueryAsync(
                    $"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{db.Name}' AND INFO LIKE '%INSERT INTO `Ambient`%' AND INFO NOT LIKE '%PROCESSLIST%'"))
                .Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture))
                .Where(id => except is null || !except.Contains(id))
                .ToList();
            if (ids.Count >= count)
            {
                return ids;
            }

            await Task.Delay(25, Ct);
        }

        throw new TimeoutException("The batch never waited on the held key.");
    }

    private static async Task<MariaDbAmbientRepository> CreateRepositoryAsync(
        TestDatabase db,
        MariaDbRepositoryOptions? options = null,
        CapturingLogger<MariaDbAmbientRepository>? logger = null)
    {
        var repository = new MariaDbAmbientRepository(db.DataSource, options ?? new MariaDbRepositoryOptions(), logger);
        await repository.EnsureSchemaAsync(Ct);
        return repository;
    }
}
