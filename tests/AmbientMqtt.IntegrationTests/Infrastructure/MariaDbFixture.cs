using MySqlConnector;

[assembly: AssemblyFixture(typeof(AmbientMqtt.IntegrationTests.Infrastructure.MariaDbFixture))]

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// The MariaDB server the whole test assembly shares (see <see cref="ServerEnvironment"/> for how it is found). The
/// server is looked up or started on first use, so tests that need none do not wait for it. Tests never share rows:
/// each one asks for a fresh database of its own with <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class MariaDbFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PrivateMariaDb? _server;
    private string? _connectionString;
    private string? _unavailable;

    /// <summary>Creates a database <c>t_xxxxxxxx</c> on the shared server, or skips the test (fails it under CI=true)
    /// when there is no server.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The database; dispose it to drop it.</returns>
    public async Task<TestDatabase> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var connectionString = await GetServerAsync(cancellationToken);
        var name = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var connection = new MySqlConnection(WithDatabase(connectionString, null)))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new TestDatabase(name, WithDatabase(connectionString, name), WithDatabase(connectionString, null));
    }

    /// <summary>Gets the shared server's connection string (its own database), starting the server on first use.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The connection string.</returns>
    public async Task<string> GetServerAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connectionString is null && _unavailable is null)
            {
                if (ServerEnvironment.MariaDbConnectionString is { } given)
                {
                    // Set on purpose, so a server that does not answer is a failure, never a skip.
                    await using var connection = new MySqlConnection(given);
                    await connection.OpenAsync(cancellationToken);
                    _connectionString = given;
                }
                else if (PrivateMariaDb.IsInstalled)
                {
                    _server = await PrivateMariaDb.StartNewAsync(cancellationToken);
                    _connectionString = _server.ConnectionString;
                }
                else
                {
                    _unavailable = $"No MariaDB server: set {ServerEnvironment.MariaDbVariable} to the connection string of a throwaway server (its user may CREATE DATABASE), or install mariadb-server so the tests can start a private one (mariadbd was not found in PATH, /usr/sbin or /usr/bin).";
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        if (_unavailable is not null)
        {
            ServerEnvironment.SkipOrFail(_unavailable);
        }

        return _connectionString!;
    }

    /// <summary>Stops the private server, if one was started.</summary>
    /// <returns>A task that completes when it is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _gate.Dispose();
    }

    private static string WithDatabase(string connectionString, string? database) =>
        new MySqlConnectionStringBuilder(connectionString) { Database = database ?? string.Empty }.ConnectionString;
}
