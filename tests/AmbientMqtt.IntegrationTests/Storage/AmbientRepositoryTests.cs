using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary>
/// What every <see cref="IAmbientRepository"/> must do, whatever its database: the tutorial's rows (zone's wall-clock
/// time, values rounded as Python rounds), a redelivered reading stored once, the dead-letter table, and settings that
/// are refused before anything is touched. Each derived class runs the whole suite against its own database; every test
/// gets an empty database of its own and checks the rows actually stored, not only what the repository says it did.
/// </summary>
public abstract class AmbientRepositoryTests
{
    /// <summary>Gets the test's cancellation token.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteBatchAsync_NewReadings_StoresTokyoWallClockTimeAndPythonRoundedValues()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);

        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59.927507Z", 25.8749, 45.8612, 996.9349),
                Reading("2024-10-09T06:31:09.936963Z", 2.675, 0.125, 0.375),
                Reading("2024-10-09T15:31:19.946706+09:00", -3.14159, 100, 1013.255),
            ],
            [],
            Ct);

        (await store.RowsAsync()).Should().BeEquivalentTo(
            new[]
            {
                new object[] { "2024-10-09 15:30:59.927507", "tochigi_iot_899", 25.87, 45.86, 996.93 },
                new object[] { "2024-10-09 15:31:09.936963", "tochigi_iot_899", 2.67, 0.12, 0.38 },
                new object[] { "2024-10-09 15:31:19.946706", "tochigi_iot_899", -3.14, 100.0, 1013.25 },
            },
            options => options.WithStrictOrdering());

        result.Should().Be(result with { Inserted = 3, Duplicates = 0, Rejected = 0 });
        result.Rows[0].Should().Be(new StoredRow(
            new DateTimeOffset(2024, 10, 9, 15, 30, 59, TimeSpan.FromHours(9)).AddTicks(9_275_070),
            "tochigi_iot_899",
            25.87,
            45.86,
            996.93,
            RowOutcome.Inserted));
        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Inserted);
    }

    [Fact]
    public async Task WriteBatchAsync_UtcZone_StoresUtcWallClockTime()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store, new RepositorySettings { TimeZone = "UTC" });

        var result = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59.927507Z", 25.8749, 45.86, 996.93)], [], Ct);

        (await store.RowsAsync()).Single()[0].Should().Be("2024-10-09 06:30:59.927507");
        result.Rows.Single().Timestamp.Should().Be(new DateTimeOffset(2024, 10, 9, 6, 30, 59, TimeSpan.Zero).AddTicks(9_275_070));
        result.Rows.Single().Timestamp.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task WriteBatchAsync_TimestampFinerThanMicroseconds_TruncatesToMicroseconds()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);

        await repository.WriteBatchAsync([Reading("2024-12-31T14:59:59.999999999Z", 1, 2, 3)], [], Ct);

        // Truncated as Python's datetime does; rounding would have moved the row into the next year.
        (await store.RowsAsync()).Single()[0].Should().Be("2024-12-31 23:59:59.999999");
    }

    [Fact]
    public async Task WriteBatchAsync_SameBatchAgain_ReportsAllDuplicatesAndAddsNoRow()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);
        AmbientReading[] batch =
        [
            Reading("2024-10-09T06:30:59.927507Z", 25.87, 45.86, 996.93),
            Reading("2024-10-09T06:31:09.936963Z", 25.89, 45.9, 996.87),
            Reading("2024-10-09T06:31:19.946706Z", 25.89, 45.9, 996.96),
        ];
        await repository.WriteBatchAsync(batch, [], Ct);
        var before = await store.QueryAsync("SELECT row_id FROM `Ambient` ORDER BY row_id");

        var again = await repository.WriteBatchAsync(batch, [], Ct);

        again.Inserted.Should().Be(0);
        again.Duplicates.Should().Be(3);
        again.Rows.Select(r => r.Outcome).Should().AllBeEquivalentTo(RowOutcome.Duplicate);
        (await store.QueryAsync("SELECT row_id FROM `Ambient` ORDER BY row_id")).Should().BeEquivalentTo(before);
        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0);
    }

    [Fact]
    public async Task WriteBatchAsync_SameReadingTwiceInOneBatch_StoresOneRowAndReportsSecondAsDuplicate()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);
        var reading = Reading("2024-10-09T06:30:59.927507Z", 25.87, 45.86, 996.93);

        var result = await repository.WriteBatchAsync([reading, Reading("2024-10-09T06:31:09Z", 1, 2, 3), reading], [], Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Duplicate);
        result.Inserted.Should().Be(2);
        result.Duplicates.Should().Be(1);
        (await store.RowsAsync()).Select(r => r[0]).Should().Equal("2024-10-09 15:30:59.927507", "2024-10-09 15:31:09.000000");
    }

    [Fact]
    public async Task WriteBatchAsync_ReadingsWithAndWithoutIdentifier_PayloadIdentifierWinsOverConfiguredOne()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store, new RepositorySettings { Identifier = "greenhouse_1" });

        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59Z", 1, 2, 3),
                Reading("2024-10-09T06:30:59Z", 1, 2, 3, "tochigi_iot_899"),
            ],
            [],
            Ct);

        (await store.RowsAsync()).Select(r => r[1]).Should().Equal("greenhouse_1", "tochigi_iot_899");
        result.Rows.Select(r => r.Identifier).Should().Equal("greenhouse_1", "tochigi_iot_899");
        result.Inserted.Should().Be(2);
    }

    [Fact]
    public async Task WriteBatchAsync_RejectedPayloads_LandInDeadLetterTableWithTopicReasonAndBytes()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);
        var notJson = "{\"timestamp\": oops"u8.ToArray();
        var longTopic = "sensors/" + new string('t', 300);
        var longReason = "field 'pressure': " + new string('r', 2000);

        var result = await repository.WriteBatchAsync(
            [Reading("2024-10-09T06:30:59.927507Z", 25.87, 45.86, 996.93)],
            [
                new RejectedPayload(Instant.FromUtc(2024, 10, 9, 6, 31, 0).PlusNanoseconds(123_456_789), "raspi/bme", notJson, "payload is not valid JSON at byte 14"),
                new RejectedPayload(Instant.FromUtc(2024, 10, 9, 6, 31, 1), longTopic, "{}"u8.ToArray(), longReason),
            ],
            Ct);

        result.Inserted.Should().Be(1);
        result.Rejected.Should().Be(2);
        var rows = await store.DeadLettersAsync();
        rows.Should().HaveCount(2);
        rows[0][0].Should().Be("2024-10-09 15:31:00.123456", "received_at holds Tokyo wall-clock time, truncated to microseconds");
        rows[0][1].Should().Be("raspi/bme");
        rows[0][2].Should().BeEquivalentTo(notJson, options => options.WithStrictOrdering());
        rows[0][3].Should().Be((long)notJson.Length);
        rows[0][4].Should().Be("payload is not valid JSON at byte 14");
        rows[1][1].Should().Be(longTopic[..255], "the topic column holds 255 characters");
        rows[1][4].Should().Be(longReason[..1024], "the reason column holds 1024 characters");
        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(1);
    }

    [Fact]
    public async Task WriteBatchAsync_PayloadLongerThanLimit_StoresPrefixAndOriginalLength()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);
        var payload = new byte[20_000];
        new Random(42).NextBytes(payload);
        var small = new byte[16_384];
        new Random(7).NextBytes(small);

        await repository.WriteBatchAsync(
            [],
            [
                new RejectedPayload(Instant.FromUtc(2024, 10, 9, 6, 31, 0), "raspi/bme", payload, "payload is 20000 bytes; the limit is 4096"),
                new RejectedPayload(Instant.FromUtc(2024, 10, 9, 6, 31, 0), "raspi/bme", small, "exactly at the limit"),
            ],
            Ct);

        var rows = await store.DeadLettersAsync();
        rows[0][2].Should().BeEquivalentTo(payload[..16_384], options => options.WithStrictOrdering());
        rows[0][3].Should().Be(20_000L);
        rows[1][2].Should().BeEquivalentTo(small, options => options.WithStrictOrdering());
        rows[1][3].Should().Be(16_384L);
    }

    [Fact]
    public async Task WriteBatchAsync_SmallerPayloadLimit_StoresThatManyBytes()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store, new RepositorySettings { MaxRejectedPayloadBytes = 10 });

        await repository.WriteBatchAsync([], [new RejectedPayload(Instant.FromUtc(2024, 1, 1, 0, 0), "t", "0123456789abcdef"u8.ToArray(), "r")], Ct);

        var row = (await store.DeadLettersAsync()).Single();
        Encoding.ASCII.GetString((byte[])row[2]).Should().Be("0123456789");
        row[3].Should().Be(16L);
    }

    [Fact]
    public async Task WriteBatchAsync_OneReadingTheDatabaseRefuses_OthersLandAndRefusedOneGoesToDeadLetterWithDatabaseReason()
    {
        await using var store = await CreateStoreAsync();
        var logger = new CapturingLogger<IAmbientRepository>();
        var repository = await CreateRepositoryAsync(store, logger: logger);
        var tooLong = new string('x', 65);

        // The codec refuses a 65-character identifier; a caller that builds readings itself bypasses it, the table does not.
        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:00Z", 1, 1, 1),
                Reading("2024-10-09T06:30:10Z", 2, 2, 2),
                Reading("2024-10-09T06:30:20Z", 3, 3, 3, tooLong),
                Reading("2024-10-09T06:30:30Z", 4, 4, 4),
                Reading("2024-10-09T06:30:40Z", 5, 5, 5),
            ],
            [],
            Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(
            RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Rejected, RowOutcome.Inserted, RowOutcome.Inserted);
        result.Should().Be(result with { Inserted = 4, Duplicates = 0, Rejected = 1 });
        (await store.RowsAsync()).Select(r => r[2]).Should().Equal(1.0, 2.0, 4.0, 5.0);

        var deadLetter = (await store.DeadLettersAsync()).Single();
        deadLetter[1].Should().Be("(refused by the database)", "the repository gets readings, not messages: the topic is not known there");
        deadLetter[4].As<string>().Should().Contain(store.RefusedIdentifierReason);
        var payload = Encoding.UTF8.GetString((byte[])deadLetter[2]);
        payload.Should().Contain(tooLong).And.Contain("2024-10-09T06:30:20");
        deadLetter[3].Should().Be((long)((byte[])deadLetter[2]).Length);
        logger.Entries.Should().ContainSingle(e => e.EventId == 3003).Which.Message.Should().Contain(store.RefusedIdentifierReason);
    }

    [Fact]
    public async Task WriteBatchAsync_RefusedReadingsSpreadOverALargeBatch_EveryGoodRowLands()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);
        var start = Instant.FromUtc(2024, 10, 9, 0, 0);
        int[] bad = [0, 7, 499, 500, 777, 1200];
        var readings = Enumerable.Range(0, 1201)
            .Select(i => new AmbientReading(start + Duration.FromSeconds(i), i, 50, 1000, bad.Contains(i) ? new string('b', 70) : null))
            .ToArray();

        var result = await repository.WriteBatchAsync(readings, [], Ct);

        result.Inserted.Should().Be(1201 - bad.Length);
        result.Rejected.Should().Be(bad.Length);
        result.Rows.Select((r, i) => (r.Outcome, i)).Where(x => x.Outcome == RowOutcome.Rejected).Select(x => x.i).Should().Equal(bad);
        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(1201 - bad.Length);
        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient` WHERE temperature IN (0, 7, 499, 500, 777, 1200)")).Should().Be(0);
        (await store.ScalarAsync($"SELECT COUNT(*) FROM `Ambient_rejected` WHERE reason LIKE '%{store.RefusedIdentifierReason.Replace("'", "''", StringComparison.Ordinal)}%'"))
            .Should().Be(bad.Length);
    }

    [Fact]
    public async Task WriteBatchAsync_NonFiniteValue_GoesToDeadLetterWithoutReachingTheTable()
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);

        var result = await repository.WriteBatchAsync(
            [Reading("2024-10-09T06:30:00Z", double.NaN, 1, 1), Reading("2024-10-09T06:30:10Z", 2, 2, double.PositiveInfinity), Reading("2024-10-09T06:30:20Z", 3, 3, 3)],
            [],
            Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Rejected, RowOutcome.Rejected, RowOutcome.Inserted);
        (await store.RowsAsync()).Should().ContainSingle().Which[2].Should().Be(3.0);
        (await store.DeadLettersAsync()).Select(r => r[4]).Should().Equal(
            "field 'temperature': NaN is not a finite number",
            "field 'pressure': Infinity is not a finite number");
    }

    [Theory]
    [InlineData("x'); DROP TABLE Ambient; --")]
    [InlineData("`; DROP TABLE `Ambient`; --")]
    [InlineData("\"double\" and 'single' quotes")]
    [InlineData("back\\slash\\' OR 1=1; --")]
    [InlineData("semi;colons;everywhere;")]
    [InlineData("nul\0byte and @p0 and $t and ?")]
    [InlineData("温度センサー🌡")]
    public async Task WriteBatchAsync_IdentifierContainingSql_IsStoredLiterally(string identifier)
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);

        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3, identifier)], [], Ct);
        var again = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3, identifier)], [], Ct);

        (await store.RowsAsync()).Should().ContainSingle().Which[1].Should().Be(identifier);
        again.Rows.Single().Outcome.Should().Be(RowOutcome.Duplicate);
        (await store.TableCountAsync()).Should().Be(3, "the table, its dead-letter table and its summaries");
    }

    [Theory]
    [InlineData("Ambient; DROP TABLE Ambient")]
    [InlineData("Ambient`; DROP TABLE `Ambient")]
    [InlineData("Amb'ient")]
    [InlineData("Amb\"ient")]
    [InlineData("Ambient -- comment")]
    [InlineData("Ambient\n")]
    [InlineData("")]
    [InlineData("1Ambient")]
    [InlineData("iot_storage.Ambient")]
    [InlineData("Ambiënt")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456")] // 56 characters: `<Table>_rejected` would not fit MariaDB.
    public async Task Constructor_TableNameThatIsNotAPlainIdentifier_ThrowsArgumentExceptionAndTouchesNothing(string table)
    {
        await using var store = await CreateStoreAsync();
        var repository = await CreateRepositoryAsync(store);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        var create = () => store.Create(new RepositorySettings { Table = table });

        create.Should().Throw<ArgumentException>().WithMessage("Database:Table: * is not allowed*letter or underscore*");
        (await store.RowsAsync()).Should().ContainSingle();
        (await store.TableCountAsync()).Should().Be(3, "the table, its dead-letter table and its summaries");
    }

    [Fact]
    public async Task EnsureSchemaAsync_TableNameOf55Characters_CreatesBothTables()
    {
        await using var store = await CreateStoreAsync();
        var table = "_" + new string('T', 54);
        var repository = store.Create(new RepositorySettings { Table = table });

        await repository.EnsureSchemaAsync(Ct);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [new RejectedPayload(Instant.FromUtc(2024, 1, 1, 0, 0), "t", "x"u8.ToArray(), "r")], Ct);

        (await store.ScalarAsync($"SELECT COUNT(*) FROM `{table}`")).Should().Be(1);
        (await store.ScalarAsync($"SELECT COUNT(*) FROM `{table}_rejected`")).Should().Be(1);
    }

    [Theory]
    [InlineData("Asia/Tokio")]
    [InlineData("JST")]
    [InlineData("")]
    public async Task Constructor_UnknownTimeZone_ThrowsArgumentExceptionNamingTheZone(string zone)
    {
        await using var store = await CreateStoreAsync();

        var create = () => store.Create(new RepositorySettings { TimeZone = zone });

        create.Should().Throw<ArgumentException>().WithMessage($"Database:TimeZone: '{zone}' is not a known time zone*IANA*");
        (await store.TableCountAsync()).Should().Be(0);
    }

    [Fact]
    public async Task EnsureSchemaAsync_ExistingTableWithoutUniqueKey_WarnsOnceAndStillStoresEveryReading()
    {
        await using var store = await CreateStoreAsync();
        await store.ExecuteAsync(store.CreateTableWithoutUniqueKeySql);
        var logger = new CapturingLogger<IAmbientRepository>();
        var repository = store.Create(logger: logger);
        AmbientReading[] batch = [Reading("2024-10-09T06:30:59Z", 1, 2, 3), Reading("2024-10-09T06:31:09Z", 4, 5, 6)];

        await repository.EnsureSchemaAsync(Ct);
        await repository.EnsureSchemaAsync(Ct);
        var first = await repository.WriteBatchAsync(batch, [], Ct);
        var second = await repository.WriteBatchAsync(batch, [], Ct);

        first.Inserted.Should().Be(2);
        second.Inserted.Should().Be(2, "without the unique key a redelivery is stored again");
        (await store.RowsAsync()).Select(r => r[0]).Should().Equal(
            "2024-10-09 15:30:59.000000", "2024-10-09 15:31:09.000000", "2024-10-09 15:30:59.000000", "2024-10-09 15:31:09.000000");
        logger.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Should().ContainSingle()
            .Which.Should().Match<LogEntry>(e => e.EventId == store.MissingUniqueKeyEventId && e.Message.Contains("duplicates are possible") && e.Message.Contains("Ambient"));
        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0, "the missing dead-letter table was created");
    }

    [Fact]
    public async Task WriteBatchAsync_TableWithoutUniqueKeyAndNoEnsureSchema_WarnsOnceOnFirstBatch()
    {
        await using var store = await CreateStoreAsync();
        await store.ExecuteAsync(store.CreateTableWithoutUniqueKeySql);
        var logger = new CapturingLogger<IAmbientRepository>();
        var repository = store.Create(logger: logger);

        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(2);
        logger.Entries.Should().ContainSingle(e => e.EventId == store.MissingUniqueKeyEventId);
    }

    [Fact]
    public async Task WriteBatchAsync_ExistingTableWithUniqueKey_NeedsNoEnsureSchemaCall()
    {
        await using var store = await CreateStoreAsync();
        await store.Create().EnsureSchemaAsync(Ct);
        var logger = new CapturingLogger<IAmbientRepository>();
        var repository = store.Create(logger: logger);

        var first = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);
        var second = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        first.Inserted.Should().Be(1);
        second.Duplicates.Should().Be(1);
        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(1);
        logger.Entries.Should().NotContain(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task WriteBatchAsync_WritersRacingOnTheSameReadings_StoreEachOnceAndReportEachInsertOnce()
    {
        await using var store = await CreateStoreAsync();
        await CreateRepositoryAsync(store);
        var start = Instant.FromUtc(2024, 10, 9, 0, 0);
        var readings = Enumerable.Range(0, 400).Select(i => new AmbientReading(start + Duration.FromSeconds(i), i, 50, 1000)).ToArray();
        var repositories = Enumerable.Range(0, 4).Select(_ => store.Create()).ToList();

        var writers = repositories.Select(repository => Task.Run(async () =>
        {
            var outcomes = new List<RowOutcome>();
            foreach (var chunk in readings.Chunk(50))
            {
                // What a caller does with a transient failure (a deadlock, a busy file): retry the batch.
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        outcomes.AddRange((await repository.WriteBatchAsync(chunk, [], Ct)).Rows.Select(r => r.Outcome));
                        break;
                    }
                    catch (AmbientStorageException ex) when (ex.IsTransient && attempt < 5)
                    {
                    }
                }
            }

            return outcomes;
        }));
        var results = await Task.WhenAll(writers);

        (await store.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(400);
        (await store.ScalarAsync("SELECT COUNT(DISTINCT temperature) FROM `Ambient`")).Should().Be(400);
        for (var i = 0; i < readings.Length; i++)
        {
            results.Count(r => r[i] == RowOutcome.Inserted).Should().Be(1, $"reading {i} was inserted by exactly one writer");
        }
    }

    /// <summary>Creates the test's own, empty database (or skips the test when there is no server).</summary>
    /// <returns>The store; dispose it to throw it away.</returns>
    protected abstract Task<RepositoryStore> CreateStoreAsync();

    /// <summary>Makes a repository and creates its tables.</summary>
    /// <param name="store">The database.</param>
    /// <param name="settings">The settings; the defaults when omitted.</param>
    /// <param name="logger">Where the repository logs.</param>
    /// <returns>The repository.</returns>
    protected static async Task<IAmbientRepository> CreateRepositoryAsync(
        RepositoryStore store,
        RepositorySettings? settings = null,
        Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var repository = store.Create(settings, logger);
        await repository.EnsureSchemaAsync(Ct);
        return repository;
    }

    /// <summary>A reading from an ISO 8601 instant with an offset.</summary>
    /// <param name="timestamp">The instant, e.g. <c>2024-10-09T06:30:59.927507Z</c>.</param>
    /// <param name="temperature">°C.</param>
    /// <param name="humidity">%RH.</param>
    /// <param name="pressure">hPa.</param>
    /// <param name="identifier">The node, or none.</param>
    /// <returns>The reading.</returns>
    protected static AmbientReading Reading(string timestamp, double temperature, double humidity, double pressure, string? identifier = null) =>
        new(OffsetDateTimePattern.ExtendedIso.Parse(timestamp).GetValueOrThrow().ToInstant(), temperature, humidity, pressure, identifier);
}
