using System.Globalization;
using AmbientMqtt.IntegrationTests.Dashboard;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary>
/// What every <see cref="IAmbientReader"/> must answer, whatever its database: buckets and rows equal to what SQL
/// computes from the same rows (with and without the summaries, across a daylight-saving change), each node's latest
/// row, at most <c>points</c> buckets, and clear refusals. Each derived class runs the suite against its own database.
/// </summary>
public abstract class AmbientReaderTests
{
    private const string Berlin = "Europe/Berlin";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(100, 300, true)]     // 5-minute buckets: summaries, and the rows of the partial 5 minutes at both ends
    [InlineData(1000, 30, false)]    // shorter: the rows
    [InlineData(500, 5, false)]      // (over 40 minutes)
    [InlineData(9, 3600, true)]      // hours, across the repeated hour
    [InlineData(3, 21600, true)]     // 6 hours, aligned to the wall clock at `from` (+02:00): 18:00, 00:00 and 06:00 CEST
    public async Task GetBucketsAsync_UnalignedRange_EqualsWhatSqlComputesFromTheRows(int points, long width, bool fromSummaries)
    {
        await using var store = await PreparedStoreAsync();
        var reader = store.CreateReader(Berlin);
        var from = Instant.FromUtc(2024, 10, 26, 21, 3, 17).PlusTicks(5_000_000);
        var to = Instant.FromUtc(2024, 10, 27, 4, 58, 41);
        if (width == 5)
        {
            to = from + Duration.FromMinutes(40);
        }

        var buckets = await reader.GetBucketsAsync(from.ToDateTimeOffset(), to.ToDateTimeOffset(), points, cancellationToken: Ct);

        buckets.Width.Should().Be(TimeSpan.FromSeconds(width));
        buckets.FromSummaries.Should().Be(fromSummaries);
        var expected = await store.ExpectedBucketsAsync(from, to, width, ReadSideExpectations.OffsetAt(Berlin, from));
        ReadSideExpectations.ShouldMatch(buckets.Buckets, expected, Berlin);
        buckets.Buckets.GroupBy(b => b.Identifier).Should().OnlyContain(g => g.Count() <= points);
    }

    [Fact]
    public async Task GetBucketsAsync_HourBucketsAcrossFallBack_TheRepeatedHourIsTwoBucketsWithTheirOwnOffsets()
    {
        await using var store = await PreparedStoreAsync();
        var reader = store.CreateReader(Berlin);
        var from = Instant.FromUtc(2024, 10, 26, 22, 0);
        var to = Instant.FromUtc(2024, 10, 27, 3, 0);

        var buckets = await reader.GetBucketsAsync(from.ToDateTimeOffset(), to.ToDateTimeOffset(), 5, "Node-A", Ct);

        buckets.Buckets.Select(b => b.Start.ToString("yyyy-MM-ddTHH:mmzzz", CultureInfo.InvariantCulture)).Should().Equal(
            "2024-10-27T00:00+02:00", "2024-10-27T01:00+02:00", "2024-10-27T02:00+02:00", "2024-10-27T02:00+01:00", "2024-10-27T03:00+01:00");
        buckets.Buckets.Should().OnlyContain(b => b.Count == 90, "every hour holds 90 readings of 40 s");
        ReadSideExpectations.ShouldMatch(buckets.Buckets, await store.ExpectedBucketsAsync(from, to, 3600, 7200, "Node-A"), Berlin);
    }

    [Fact]
    public async Task GetBucketsAsync_DayBucketsInTokyo_StartAtLocalMidnight()
    {
        await using var store = await PreparedStoreAsync("Asia/Tokyo");
        var reader = store.CreateReader("Asia/Tokyo");
        var from = Instant.FromUtc(2024, 10, 20, 0, 0);
        var to = Instant.FromUtc(2024, 11, 1, 0, 0);

        var buckets = await reader.GetBucketsAsync(from.ToDateTimeOffset(), to.ToDateTimeOffset(), 13, cancellationToken: Ct);

        buckets.Width.Should().Be(TimeSpan.FromDays(1));
        buckets.Buckets.Select(b => b.Start).Distinct().Select(s => s.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture))
            .Should().Equal("2024-10-27T00:00:00+09:00");
        buckets.Buckets.Should().HaveCount(3).And.OnlyContain(b => b.Start.UtcDateTime == new DateTime(2024, 10, 26, 15, 0, 0));
        ReadSideExpectations.ShouldMatch(buckets.Buckets, await store.ExpectedBucketsAsync(from, to, 86400, 9 * 3600), "Asia/Tokyo");
    }

    [Fact]
    public async Task GetBucketsAsync_WithoutSummaryTable_ComputesTheSameFromTheRows()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateTablesAsync(summaries: false);
        await store.InsertAsync(ReadSideExpectations.Rows(), Berlin);
        var reader = store.CreateReader(Berlin);
        var from = Instant.FromUtc(2024, 10, 26, 21, 3, 17);
        var to = Instant.FromUtc(2024, 10, 27, 4, 58, 41);

        var buckets = await reader.GetBucketsAsync(from.ToDateTimeOffset(), to.ToDateTimeOffset(), 100, cancellationToken: Ct);

        buckets.FromSummaries.Should().BeFalse();
        buckets.Width.Should().Be(TimeSpan.FromMinutes(5));
        ReadSideExpectations.ShouldMatch(buckets.Buckets, await store.ExpectedBucketsAsync(from, to, 300, 7200), Berlin);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(50)]
    [InlineData(299)]
    [InlineData(1441)]
    public async Task GetBucketsAsync_AnyPoints_NeverMoreBucketsPerNodeThanAskedFor(int points)
    {
        await using var store = await PreparedStoreAsync();
        var reader = store.CreateReader(Berlin);
        var from = ReadSideExpectations.DataFrom.PlusTicks(1234567);

        var buckets = await reader.GetBucketsAsync(from.ToDateTimeOffset(), (from + Duration.FromHours(10)).ToDateTimeOffset(), points, cancellationToken: Ct);

        buckets.Buckets.GroupBy(b => b.Identifier).Should().HaveCount(3).And.OnlyContain(g => g.Count() <= points);
        buckets.Buckets.Sum(b => b.Count).Should().Be(ReadSideExpectations.Rows().Count(r => r.Utc >= from));
    }

    [Fact]
    public async Task ReadRowsAsync_AcrossFallBack_EveryRowInOrderWithTheTablesWallClockAndTheZonesOffset()
    {
        await using var store = await PreparedStoreAsync();
        var reader = store.CreateReader(Berlin);
        var from = Instant.FromUtc(2024, 10, 26, 23, 30, 0);
        var to = Instant.FromUtc(2024, 10, 27, 1, 40, 0);

        var rows = await reader.ReadRowsAsync(from.ToDateTimeOffset(), to.ToDateTimeOffset(), cancellationToken: Ct).ToListAsync(Ct);

        var expected = await store.ExpectedRowsAsync(from, to);
        expected.Should().HaveCountGreaterThan(400);
        rows.Select(r => (r.Timestamp.ToString("yyyy-MM-ddTHH:mm:ss.ffffff", CultureInfo.InvariantCulture), (r.Timestamp.UtcTicks - DateTime.UnixEpoch.Ticks) / 10, r.Identifier, r.Temperature, r.Humidity, r.Pressure))
            .Should().Equal(expected.Select(e => (e.Local, e.UtcMicroseconds, e.Identifier, (double?)e.T, (double?)e.H, (double?)e.P)));
        rows.Select(r => r.Timestamp.Offset).Distinct().Should().Equal(TimeSpan.FromHours(2), TimeSpan.FromHours(1));
        rows.Should().Contain(r => r.Timestamp.ToString("HH:mmzzz", CultureInfo.InvariantCulture) == "02:30+02:00")
            .And.Contain(r => r.Timestamp.ToString("HH:mmzzz", CultureInfo.InvariantCulture) == "02:30+01:00");
    }

    [Fact]
    public async Task ReadRowsAsync_OneNode_OnlyItsRows()
    {
        await using var store = await PreparedStoreAsync();
        var reader = store.CreateReader(Berlin);
        var from = ReadSideExpectations.DataFrom;
        var to = from + Duration.FromHours(10);

        var rows = await reader.ReadRowsAsync(from.ToDateTimeOffset(), to.ToDateTimeOffset(), "nöde,\"c\"", Ct).ToListAsync(Ct);

        rows.Should().HaveCount(900).And.OnlyContain(r => r.Identifier == "nöde,\"c\"");
        (await store.ExpectedRowsAsync(from, to, "nöde,\"c\"")).Select(e => e.UtcMicroseconds)
            .Should().Equal(rows.Select(r => (r.Timestamp.UtcTicks - DateTime.UnixEpoch.Ticks) / 10));
    }

    [Fact]
    public async Task GetNodesAsync_EveryNodeWithItsLatestRow()
    {
        await using var store = await PreparedStoreAsync();
        var reader = store.CreateReader(Berlin);

        var nodes = await reader.GetNodesAsync(Ct);

        nodes.Select(n => (n.Identifier, (n.Latest.Timestamp.UtcTicks - DateTime.UnixEpoch.Ticks) / 10))
            .Should().Equal(await store.ExpectedLatestAsync());
        nodes.Select(n => n.Identifier).Should().Equal("Node-A", "node-a", "nöde,\"c\"");
        var latest = ReadSideExpectations.Rows().Where(r => r.Identifier == "node-a").MaxBy(r => r.Utc)!;
        nodes[1].Latest.Should().Be(new StoredReading(
            latest.Utc.InZone(DateTimeZoneProviders.Tzdb[Berlin]).ToDateTimeOffset(), "node-a", latest.Temperature, latest.Humidity, latest.Pressure));
    }

    [Fact]
    public async Task GetNodesAsync_EmptyTable_NoNodes()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateTablesAsync();

        (await store.CreateReader(Berlin).GetNodesAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task AnyCall_TableOfTheFirstSchema_RefusedWithAMessageNamingTheMissingColumn()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateFirstSchemaTableAsync();
        var reader = store.CreateReader(Berlin);

        var nodes = () => reader.GetNodesAsync(Ct);
        var buckets = () => reader.GetBucketsAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow, 10, cancellationToken: Ct);

        (await nodes.Should().ThrowAsync<AmbientStorageException>()).Which.Message.Should().Contain("no column timestamp_utc").And.Contain("earlier schema");
        (await buckets.Should().ThrowAsync<AmbientStorageException>()).Which.IsTransient.Should().BeFalse();
    }

    [Fact]
    public async Task AnyCall_NoTableYet_TransientErrorNamingTheTable()
    {
        await using var store = await CreateStoreAsync();
        await store.CreateTablesAsync(table: "Other");
        var reader = store.CreateReader(Berlin);

        var rows = async () => await reader.ReadRowsAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow, cancellationToken: Ct).ToListAsync(Ct);

        var error = (await rows.Should().ThrowAsync<AmbientStorageException>()).Which;
        error.Message.Should().Contain("Ambient").And.Contain("does not exist");
        error.IsTransient.Should().BeTrue();
    }

    [Fact]
    public async Task Arguments_OutOfRange_RefusedNamingTheArgument()
    {
        await using var store = await CreateStoreAsync();
        var reader = store.CreateReader(Berlin);
        var now = DateTimeOffset.UtcNow;

        (await reader.Invoking(r => r.GetBucketsAsync(now, now, 10, cancellationToken: Ct)).Should().ThrowAsync<ArgumentOutOfRangeException>()).Which.ParamName.Should().Be("rangeEnd");
        (await reader.Invoking(r => r.GetBucketsAsync(now, now.AddHours(1), 0, cancellationToken: Ct)).Should().ThrowAsync<ArgumentOutOfRangeException>()).Which.ParamName.Should().Be("points");
        (await reader.Invoking(r => r.GetBucketsAsync(now, now.AddHours(1), 10, string.Empty, Ct)).Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("node");
        reader.Invoking(r => r.ReadRowsAsync(now, now.AddHours(-1), cancellationToken: Ct)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("rangeEnd");
    }

    /// <summary>Makes an empty database of the derived class's kind.</summary>
    internal abstract Task<ReadSideStore> CreateStoreAsync();

    private async Task<ReadSideStore> PreparedStoreAsync(string zone = Berlin)
    {
        var store = await CreateStoreAsync();
        await store.CreateTablesAsync();
        await store.InsertAsync(ReadSideExpectations.Rows(), zone);
        return store;
    }
}
