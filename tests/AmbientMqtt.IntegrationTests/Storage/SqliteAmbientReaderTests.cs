using AmbientMqtt.IntegrationTests.Dashboard;
using AmbientMqtt.Storage;
using Microsoft.Data.Sqlite;

namespace AmbientMqtt.IntegrationTests.Storage;

/// <summary><see cref="SqliteAmbientReader"/> on a real SQLite file: the shared suite of <see cref="AmbientReaderTests"/>,
/// plus what only a file does.</summary>
public sealed class SqliteAmbientReaderTests : AmbientReaderTests
{
    [Fact]
    public async Task AnyCall_NoFileYet_TransientErrorNamingTheFileAndCreatesNothing()
    {
        var path = Path.Combine(Path.GetTempPath(), "ambient-missing-" + Guid.NewGuid().ToString("N")[..8], "ambient.db");
        using var reader = new SqliteAmbientReader(new SqliteRepositoryOptions { Path = path });

        var error = (await reader.Invoking(r => r.GetNodesAsync(TestContext.Current.CancellationToken)).Should().ThrowAsync<AmbientStorageException>()).Which;

        error.Message.Should().Contain(path).And.Contain("does not exist");
        error.IsTransient.Should().BeTrue();
        File.Exists(path).Should().BeFalse();
    }

    [Fact]
    public async Task Reading_WhileAnotherConnectionHoldsAWriteTransaction_IsNotHeldBack()
    {
        await using var store = new SqliteReadSideStore();
        await store.CreateTablesAsync();
        await store.InsertAsync(ReadSideExpectations.Rows(), "UTC");
        var reader = store.CreateReader("UTC");
        using var writer = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False");
        writer.Open();
        using var transaction = writer.BeginTransaction(deferred: false);
        using (var insert = writer.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO Ambient (timestamp, identifier, temperature, humidity, pressure, timestamp_utc) VALUES ('2030-01-01 00:00:00.000000', 'late', 1, 2, 3, '2030-01-01 00:00:00.000000')";
            insert.ExecuteNonQuery();
        }

        var nodes = await reader.GetNodesAsync(TestContext.Current.CancellationToken);

        nodes.Select(n => n.Identifier).Should().Equal("Node-A", "node-a", "nöde,\"c\"");
    }

    internal override Task<ReadSideStore> CreateStoreAsync() => Task.FromResult<ReadSideStore>(new SqliteReadSideStore());
}
