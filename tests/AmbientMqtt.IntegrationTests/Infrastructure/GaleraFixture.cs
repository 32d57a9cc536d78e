using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// The Galera cluster of the <c>Galera</c> test collection: started on first use, once for every class of the
/// collection, and stopped after the last. Each test asks for a healthy cluster (a node an earlier test killed is
/// restarted first) and a database of its own. Without mariadb-server and galera-4 the tests are skipped with the reason,
/// except under <c>CI=true</c>, where that is a failure.
/// </summary>
public sealed class GaleraFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PrivateGalera? _cluster;
    private string? _failed;

    /// <summary>Gets the cluster with its three nodes Synced, starting it on first use and restarting any node an earlier
    /// test left killed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The cluster.</returns>
    internal async Task<PrivateGalera> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        if (PrivateGalera.Unavailable is { } reason)
        {
            ServerEnvironment.SkipOrFail("No Galera cluster can run here: " + reason + ".");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_failed is not null)
            {
                throw new InvalidOperationException("The Galera cluster did not start: " + _failed);
            }

            if (_cluster is null)
            {
                try
                {
                    _cluster = await PrivateGalera.StartNewAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MySqlException)
                {
                    // One clear failure per test rather than a three-minute start attempt per test.
                    _failed = ex.Message;
                    throw;
                }
            }
            else
            {
                await _cluster.HealAsync(cancellationToken);
            }

            return _cluster;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Creates a database <c>t_xxxxxxxx</c> on the cluster; its connection string names the three nodes
    /// (<c>LoadBalance=FailOver</c>).</summary>
    /// <param name="cluster">The cluster.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The database; dispose it to drop it.</returns>
    internal static async Task<TestDatabase> CreateDatabaseAsync(PrivateGalera cluster, CancellationToken cancellationToken = default)
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var connection = new MySqlConnection(cluster.ConnectionString(null)))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new TestDatabase(name, cluster.ConnectionString(name), cluster.ConnectionString(null));
    }

    /// <summary>Stops the cluster.</summary>
    /// <returns>A task that completes when its nodes are gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        _gate.Dispose();
    }
}
