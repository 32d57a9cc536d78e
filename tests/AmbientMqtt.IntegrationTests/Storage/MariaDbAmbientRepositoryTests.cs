using System.Globalization;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using MySqlConnector;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary>
/// <see cref="MariaDbAmbientRepository"/> against a real MariaDB server. Every test gets a database of its own and checks
/// the rows actually in the tables, not only what the repository says it did.
/// </summary>
public sealed class MariaDbAmbientRepositoryTests(MariaDbFixture fixture)
{
    private const string SelectRows =
        "SELECT DATE_FORMAT(timestamp, '%Y-%m-%d %H:%i:%s.%f'), identifier, temperature, humidity, pressure FROM `Ambient` ORDER BY row_id";

    private const string SelectDeadLetters =
        "SELECT DATE_FORMAT(received_at, '%Y-%m-%d %H:%i:%s.%f'), topic, payload, payload_bytes, reason FROM `Ambient_rejected` ORDER BY row_id";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EnsureSchemaAsync_EmptyDatabase_CreatesTableWithUniqueKeyAndDeadLetterTable()
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
            "Ambient_rejected row_id bigint(20) unsigned NO auto_increment",
            "Ambient_rejected received_at datetime(6) NO",
            "Ambient_rejected topic varchar(255) NO",
            "Ambient_rejected payload mediumblob NO",
            "Ambient_rejected payload_bytes int(11) NO",
            "Ambient_rejected reason varchar(1024) NO");

        var uniqueKey = await db.QueryAsync(
            $"SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{db.Name}' AND TABLE_NAME = 'Ambient' AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY' ORDER BY SEQ_IN_INDEX");
        uniqueKey.Select(k => $"{k[0]}.{k[1]}").Should().Equal("ux_identifier_timestamp.identifier", "ux_identifier_timestamp.timestamp");

        var tables = await db.QueryAsync($"SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}' ORDER BY TABLE_NAME");
        tables.Should().AllSatisfy(t =>
        {
            t[1].Should().Be("InnoDB");
            t[2].As<string>().Should().StartWith("utf8mb4");
        });
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(0);
    }

    [Fact]
    public async Task WriteBatchAsync_NewReadings_StoresTokyoWallClockTimeAndPythonRoundedValues()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);

        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59.927507Z", 25.8749, 45.8612, 996.9349),
                Reading("2024-10-09T06:31:09.936963Z", 2.675, 0.125, 0.375),
                Reading("2024-10-09T15:31:19.946706+09:00", -3.14159, 100, 1013.255),
            ],
            [],
            Ct);

        (await db.QueryAsync(SelectRows)).Should().BeEquivalentTo(
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
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db, new MariaDbRepositoryOptions { TimeZone = "UTC" });

        var result = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59.927507Z", 25.8749, 45.86, 996.93)], [], Ct);

        (await db.QueryAsync(SelectRows)).Single()[0].Should().Be("2024-10-09 06:30:59.927507");
        result.Rows.Single().Timestamp.Should().Be(new DateTimeOffset(2024, 10, 9, 6, 30, 59, TimeSpan.Zero).AddTicks(9_275_070));
        result.Rows.Single().Timestamp.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task WriteBatchAsync_TimestampFinerThanMicroseconds_TruncatesToMicroseconds()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);

        await repository.WriteBatchAsync([Reading("2024-12-31T14:59:59.999999999Z", 1, 2, 3)], [], Ct);

        // Truncated as Python's datetime does; rounding would have moved the row into the next year.
        (await db.QueryAsync(SelectRows)).Single()[0].Should().Be("2024-12-31 23:59:59.999999");
    }

    [Fact]
    public async Task WriteBatchAsync_SameBatchAgain_ReportsAllDuplicatesAndAddsNoRow()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);
        AmbientReading[] batch =
        [
            Reading("2024-10-09T06:30:59.927507Z", 25.87, 45.86, 996.93),
            Reading("2024-10-09T06:31:09.936963Z", 25.89, 45.9, 996.87),
            Reading("2024-10-09T06:31:19.946706Z", 25.89, 45.9, 996.96),
        ];
        await repository.WriteBatchAsync(batch, [], Ct);
        var before = await db.QueryAsync("SELECT row_id FROM `Ambient` ORDER BY row_id");

        var again = await repository.WriteBatchAsync(batch, [], Ct);

        again.Inserted.Should().Be(0);
        again.Duplicates.Should().Be(3);
        again.Rows.Select(r => r.Outcome).Should().AllBeEquivalentTo(RowOutcome.Duplicate);
        (await db.QueryAsync("SELECT row_id FROM `Ambient` ORDER BY row_id")).Should().BeEquivalentTo(before);
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0);
    }

    [Fact]
    public async Task WriteBatchAsync_SameReadingTwiceInOneBatch_StoresOneRowAndReportsSecondAsDuplicate()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);
        var reading = Reading("2024-10-09T06:30:59.927507Z", 25.87, 45.86, 996.93);

        var result = await repository.WriteBatchAsync([reading, Reading("2024-10-09T06:31:09Z", 1, 2, 3), reading], [], Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Inserted, RowOutcome.Inserted, RowOutcome.Duplicate);
        result.Inserted.Should().Be(2);
        result.Duplicates.Should().Be(1);
        (await db.QueryAsync(SelectRows)).Select(r => r[0]).Should().Equal("2024-10-09 15:30:59.927507", "2024-10-09 15:31:09.000000");
    }

    [Fact]
    public async Task WriteBatchAsync_IdentifiersEqualUnderTableCollation_ReportsSecondAsDuplicate()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);

        // utf8mb4's default collation ignores case and trailing spaces, so the unique key sees one reading three times.
        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59Z", 1, 2, 3, "Node-7"),
                Reading("2024-10-09T06:30:59Z", 4, 5, 6, "node-7"),
                Reading("2024-10-09T06:30:59Z", 7, 8, 9, "NODE-7 "),
            ],
            [],
            Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Inserted, RowOutcome.Duplicate, RowOutcome.Duplicate);
        (await db.QueryAsync(SelectRows)).Should().ContainSingle().Which.Should().Equal("2024-10-09 15:30:59.000000", "Node-7", 1.0, 2.0, 3.0);
    }

    [Fact]
    public async Task WriteBatchAsync_ReadingsWithAndWithoutIdentifier_PayloadIdentifierWinsOverConfiguredOne()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db, new MariaDbRepositoryOptions { Identifier = "greenhouse_1" });

        var result = await repository.WriteBatchAsync(
            [
                Reading("2024-10-09T06:30:59Z", 1, 2, 3),
                Reading("2024-10-09T06:30:59Z", 1, 2, 3, "tochigi_iot_899"),
            ],
            [],
            Ct);

        (await db.QueryAsync(SelectRows)).Select(r => r[1]).Should().Equal("greenhouse_1", "tochigi_iot_899");
        result.Rows.Select(r => r.Identifier).Should().Equal("greenhouse_1", "tochigi_iot_899");
        result.Inserted.Should().Be(2);
    }

    [Fact]
    public async Task WriteBatchAsync_RejectedPayloads_LandInDeadLetterTableWithTopicReasonAndBytes()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);
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
        var rows = await db.QueryAsync(SelectDeadLetters);
        rows.Should().HaveCount(2);
        rows[0][0].Should().Be("2024-10-09 15:31:00.123456", "received_at holds Tokyo wall-clock time, truncated to microseconds");
        rows[0][1].Should().Be("raspi/bme");
        rows[0][2].Should().BeEquivalentTo(notJson, options => options.WithStrictOrdering());
        rows[0][3].Should().Be(notJson.Length);
        rows[0][4].Should().Be("payload is not valid JSON at byte 14");
        rows[1][1].Should().Be(longTopic[..255], "the topic column holds 255 characters");
        rows[1][4].Should().Be(longReason[..1024], "the reason column holds 1024 characters");
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(1);
    }

    [Fact]
    public async Task WriteBatchAsync_PayloadLongerThanLimit_StoresPrefixAndOriginalLength()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);
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

        var rows = await db.QueryAsync(SelectDeadLetters);
        rows[0][2].Should().BeEquivalentTo(payload[..16_384], options => options.WithStrictOrdering());
        rows[0][3].Should().Be(20_000);
        rows[1][2].Should().BeEquivalentTo(small, options => options.WithStrictOrdering());
        rows[1][3].Should().Be(16_384);
    }

    [Fact]
    public async Task WriteBatchAsync_SmallerPayloadLimit_StoresThatManyBytes()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db, new MariaDbRepositoryOptions { MaxRejectedPayloadBytes = 10 });

        await repository.WriteBatchAsync([], [new RejectedPayload(Instant.FromUtc(2024, 1, 1, 0, 0), "t", "0123456789abcdef"u8.ToArray(), "r")], Ct);

        var row = (await db.QueryAsync(SelectDeadLetters)).Single();
        Encoding.ASCII.GetString((byte[])row[2]).Should().Be("0123456789");
        row[3].Should().Be(16);
    }

    [Fact]
    public async Task WriteBatchAsync_OneReadingTheServerRefuses_OthersLandAndRefusedOneGoesToDeadLetterWithServerReason()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var logger = new CapturingLogger<MariaDbAmbientRepository>();
        var repository = await CreateRepositoryAsync(db, logger: logger);
        var tooLong = new string('x', 65);

        // The codec refuses a 65-character identifier; a caller that builds readings itself bypasses it, the server does not.
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
        (await db.QueryAsync(SelectRows)).Select(r => r[2]).Should().Equal(1.0, 2.0, 4.0, 5.0);

        var deadLetter = (await db.QueryAsync(SelectDeadLetters)).Single();
        deadLetter[1].Should().Be(string.Empty);
        deadLetter[4].As<string>().Should().Contain("Data too long for column 'identifier'");
        var payload = Encoding.UTF8.GetString((byte[])deadLetter[2]);
        payload.Should().Contain(tooLong).And.Contain("2024-10-09T06:30:20");
        deadLetter[3].Should().Be(((byte[])deadLetter[2]).Length);
        logger.Entries.Should().ContainSingle(e => e.EventId == 3003).Which.Message.Should().Contain("Data too long");
    }

    [Fact]
    public async Task WriteBatchAsync_RefusedReadingsAcrossStatements_EveryGoodRowLands()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);
        var start = Instant.FromUtc(2024, 10, 9, 0, 0);
        int[] bad = [0, 7, 499, 500, 777, 1200];
        var readings = Enumerable.Range(0, 1201)
            .Select(i => new AmbientReading(start + Duration.FromSeconds(i), i, 50, 1000, bad.Contains(i) ? new string('b', 70) : null))
            .ToArray();

        var result = await repository.WriteBatchAsync(readings, [], Ct);

        result.Inserted.Should().Be(1201 - bad.Length);
        result.Rejected.Should().Be(bad.Length);
        result.Rows.Select((r, i) => (r.Outcome, i)).Where(x => x.Outcome == RowOutcome.Rejected).Select(x => x.i).Should().Equal(bad);
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(1201 - bad.Length);
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient` WHERE temperature IN (0, 7, 499, 500, 777, 1200)")).Should().Be(0);
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected` WHERE reason LIKE 'Data too long%'")).Should().Be(bad.Length);
    }

    [Fact]
    public async Task WriteBatchAsync_NonFiniteValue_GoesToDeadLetterWithoutReachingTheTable()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);

        var result = await repository.WriteBatchAsync(
            [Reading("2024-10-09T06:30:00Z", double.NaN, 1, 1), Reading("2024-10-09T06:30:10Z", 2, 2, double.PositiveInfinity), Reading("2024-10-09T06:30:20Z", 3, 3, 3)],
            [],
            Ct);

        result.Rows.Select(r => r.Outcome).Should().Equal(RowOutcome.Rejected, RowOutcome.Rejected, RowOutcome.Inserted);
        (await db.QueryAsync(SelectRows)).Should().ContainSingle().Which[2].Should().Be(3.0);
        (await db.QueryAsync(SelectDeadLetters)).Select(r => r[4]).Should().Equal(
            "field 'temperature': NaN is not a finite number",
            "field 'pressure': Infinity is not a finite number");
    }

    [Theory]
    [InlineData("x'); DROP TABLE Ambient; --")]
    [InlineData("`; DROP TABLE `Ambient`; --")]
    [InlineData("\"double\" and 'single' quotes")]
    [InlineData("back\\slash\\' OR 1=1; --")]
    [InlineData("semi;colons;everywhere;")]
    [InlineData("nul\0byte and @p0 and ?")]
    [InlineData("温度センサー🌡")]
    public async Task WriteBatchAsync_IdentifierContainingSql_IsStoredLiterally(string identifier)
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);

        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3, identifier)], [], Ct);
        var again = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3, identifier)], [], Ct);

        (await db.QueryAsync(SelectRows)).Should().ContainSingle().Which[1].Should().Be(identifier);
        again.Rows.Single().Outcome.Should().Be(RowOutcome.Duplicate);
        (await db.ScalarAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}'")).Should().Be(2);
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
    [InlineData("a2345678901234567890123456789012345678901234567890123456")] // 56 characters: `<Table>_rejected` would not fit.
    public async Task Constructor_TableNameThatIsNotAPlainIdentifier_ThrowsArgumentExceptionAndTouchesNothing(string table)
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var repository = await CreateRepositoryAsync(db);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        var create = () => new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions { Table = table });

        create.Should().Throw<ArgumentException>().WithMessage("Database:Table: * is not allowed*letter or underscore*");
        (await db.QueryAsync(SelectRows)).Should().ContainSingle();
        (await db.ScalarAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}'")).Should().Be(2);
    }

    [Fact]
    public async Task EnsureSchemaAsync_TableNameOf55Characters_CreatesBothTables()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        var table = "_" + new string('T', 54);
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions { Table = table });

        await repository.EnsureSchemaAsync(Ct);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [new RejectedPayload(Instant.FromUtc(2024, 1, 1, 0, 0), "t", "x"u8.ToArray(), "r")], Ct);

        (await db.ScalarAsync($"SELECT COUNT(*) FROM `{table}`")).Should().Be(1);
        (await db.ScalarAsync($"SELECT COUNT(*) FROM `{table}_rejected`")).Should().Be(1);
    }

    [Theory]
    [InlineData("Asia/Tokio")]
    [InlineData("JST")]
    [InlineData("")]
    public async Task Constructor_UnknownTimeZone_ThrowsArgumentExceptionNamingTheZone(string zone)
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);

        var create = () => new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions { TimeZone = zone });

        create.Should().Throw<ArgumentException>().WithMessage($"Database:TimeZone: '{zone}' is not a known time zone*IANA*");
        (await db.ScalarAsync($"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db.Name}'")).Should().Be(0);
    }

    [Fact]
    public async Task EnsureSchemaAsync_ExistingTableWithoutUniqueKey_WarnsOnceAndStillStoresEveryReading()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        await db.ExecuteAsync(
            "CREATE TABLE `Ambient` (row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, timestamp DATETIME(6) NOT NULL, identifier VARCHAR(64) NOT NULL, temperature DOUBLE, humidity DOUBLE, pressure DOUBLE, KEY ix_timestamp (timestamp)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        var logger = new CapturingLogger<MariaDbAmbientRepository>();
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions(), logger);
        AmbientReading[] batch = [Reading("2024-10-09T06:30:59Z", 1, 2, 3), Reading("2024-10-09T06:31:09Z", 4, 5, 6)];

        await repository.EnsureSchemaAsync(Ct);
        await repository.EnsureSchemaAsync(Ct);
        var first = await repository.WriteBatchAsync(batch, [], Ct);
        var second = await repository.WriteBatchAsync(batch, [], Ct);

        first.Inserted.Should().Be(2);
        second.Inserted.Should().Be(2, "without the unique key a redelivery is stored again");
        (await db.QueryAsync(SelectRows)).Select(r => r[0]).Should().Equal(
            "2024-10-09 15:30:59.000000", "2024-10-09 15:31:09.000000", "2024-10-09 15:30:59.000000", "2024-10-09 15:31:09.000000");
        logger.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning).Should().ContainSingle()
            .Which.Should().Match<LogEntry>(e => e.EventId == 3001 && e.Message.Contains("duplicates are possible") && e.Message.Contains("`Ambient`"));
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0, "the missing dead-letter table was created");
    }

    [Fact]
    public async Task WriteBatchAsync_TableWithoutUniqueKeyAndNoEnsureSchema_WarnsOnceOnFirstBatch()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        await new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions()).EnsureSchemaAsync(Ct);
        await db.ExecuteAsync("ALTER TABLE `Ambient` DROP KEY ux_identifier_timestamp");
        var logger = new CapturingLogger<MariaDbAmbientRepository>();
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions(), logger);

        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);
        await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(2);
        logger.Entries.Should().ContainSingle(e => e.EventId == 3001);
    }

    [Fact]
    public async Task WriteBatchAsync_ExistingTableWithUniqueKey_NeedsNoEnsureSchemaCall()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        await new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions()).EnsureSchemaAsync(Ct);
        var logger = new CapturingLogger<MariaDbAmbientRepository>();
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions(), logger);

        var first = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);
        var second = await repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3)], [], Ct);

        first.Inserted.Should().Be(1);
        second.Duplicates.Should().Be(1);
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(1);
        logger.Entries.Should().NotContain(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task WriteBatchAsync_WritersRacingOnTheSameReadings_StoreEachOnceAndReportEachInsertOnce()
    {
        await using var db = await fixture.CreateDatabaseAsync(Ct);
        await CreateRepositoryAsync(db);
        var start = Instant.FromUtc(2024, 10, 9, 0, 0);
        var readings = Enumerable.Range(0, 400).Select(i => new AmbientReading(start + Duration.FromSeconds(i), i, 50, 1000)).ToArray();

        var writers = Enumerable.Range(0, 4).Select(async w =>
        {
            var repository = new MariaDbAmbientRepository(db.CreateDataSource(), new MariaDbRepositoryOptions());
            var outcomes = new List<RowOutcome>();
            foreach (var chunk in readings.Chunk(50))
            {
                // What a caller does with a transient failure (here: a deadlock between racing writers): retry the batch.
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
        });
        var results = await Task.WhenAll(writers);

        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient`")).Should().Be(400);
        (await db.ScalarAsync("SELECT COUNT(DISTINCT temperature) FROM `Ambient`")).Should().Be(400);
        for (var i = 0; i < readings.Length; i++)
        {
            results.Count(r => r[i] == RowOutcome.Inserted).Should().Be(1, $"reading {i} was inserted by exactly one writer");
        }
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
            "INSERT INTO `Ambient` (timestamp, identifier, temperature) VALUES ('2024-10-09 15:30:59', 'tochigi_iot_899', 99)", blocker, blockerTransaction))
        {
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var write = repository.WriteBatchAsync([Reading("2024-10-09T06:30:59Z", 1, 2, 3), Reading("2024-10-09T06:31:09Z", 4, 5, 6)], [], Ct);
        var waiting = await WaitForWaitingInsertAsync(db, count: 1);
        await db.ExecuteAsync($"KILL CONNECTION {waiting[0]}");
        var retrying = await WaitForWaitingInsertAsync(db, count: 1);
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

    private static async Task<List<long>> WaitForWaitingInsertAsync(TestDatabase db, int count)
    {
        for (var i = 0; i < 400; i++)
        {
            var ids = (await db.QueryAsync(
                    $"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{db.Name}' AND INFO LIKE '%INSERT INTO `Ambient`%' AND INFO NOT LIKE '%PROCESSLIST%'"))
                .Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture))
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

    private static AmbientReading Reading(string timestamp, double temperature, double humidity, double pressure, string? identifier = null) =>
        new(OffsetDateTimePattern.ExtendedIso.Parse(timestamp).GetValueOrThrow().ToInstant(), temperature, humidity, pressure, identifier);
}
