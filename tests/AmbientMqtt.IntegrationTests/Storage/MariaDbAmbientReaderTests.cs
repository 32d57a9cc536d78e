using AmbientMqtt.IntegrationTests.Dashboard;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary><see cref="MariaDbAmbientReader"/> on a real MariaDB server: the shared suite of
/// <see cref="AmbientReaderTests"/>, plus a user that may only SELECT.</summary>
public sealed class MariaDbAmbientReaderTests(MariaDbFixture mariaDb) : AmbientReaderTests
{
    [Fact]
    public async Task EveryCall_UserWithSelectOnly_Works()
    {
        await using var store = await MariaDbReadSideStore.CreateAsync(mariaDb, TestContext.Current.CancellationToken);
        await store.CreateTablesAsync();
        await store.InsertAsync(ReadSideExpectations.Rows(), "UTC");
        var user = "reader_" + Guid.NewGuid().ToString("N")[..8];
        await store.Database.ExecuteAsync($"CREATE USER '{user}'@'%' IDENTIFIED BY 'read-only-pw'");
        try
        {
            await store.Database.ExecuteAsync($"GRANT SELECT ON `{store.Database.Name}`.* TO '{user}'@'%'");
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied)
        {
            // The private server's test user has every privilege but GRANT OPTION (test.sh's has it): the same grant,
            // written into the privilege table it may change.
            await store.Database.ExecuteAsync($"INSERT INTO mysql.db (Host, Db, User, Select_priv) VALUES ('%', '{store.Database.Name}', '{user}', 'Y'); FLUSH PRIVILEGES");
        }

        (await store.Database.QueryAsync($"SHOW GRANTS FOR '{user}'@'%'")).Select(r => (string)r[0])
            .Should().Contain(g => g.StartsWith($"GRANT SELECT ON `{store.Database.Name}`.*", StringComparison.Ordinal));

        try
        {
            await using var readOnly = store.Database.CreateDataSource(b => { b.UserID = user; b.Password = "read-only-pw"; });
            var reader = new MariaDbAmbientReader(readOnly, new MariaDbRepositoryOptions { TimeZone = "UTC" });
            var from = ReadSideExpectations.DataFrom.ToDateTimeOffset();

            (await reader.GetNodesAsync(TestContext.Current.CancellationToken)).Should().HaveCount(3);
            (await reader.GetBucketsAsync(from, from.AddHours(10), 100, cancellationToken: TestContext.Current.CancellationToken)).FromSummaries.Should().BeTrue();
            (await reader.ReadRowsAsync(from, from.AddHours(1), cancellationToken: TestContext.Current.CancellationToken).CountAsync(TestContext.Current.CancellationToken)).Should().Be(270);
            var write = () => store.Database.CreateDataSource(b => { b.UserID = user; b.Password = "read-only-pw"; }).OpenConnectionAsync().AsTask()
                .ContinueWith(async t => { await using var c = await t; await new MySqlCommand("DELETE FROM Ambient", c).ExecuteNonQueryAsync(); }, TaskScheduler.Default).Unwrap();
            await write.Should().ThrowAsync<MySqlException>("the user may only read");
        }
        finally
        {
            await store.Database.ExecuteAsync($"DROP USER '{user}'@'%'");
        }
    }

    internal override async Task<ReadSideStore> CreateStoreAsync() =>
        await MariaDbReadSideStore.CreateAsync(mariaDb, TestContext.Current.CancellationToken);
}
