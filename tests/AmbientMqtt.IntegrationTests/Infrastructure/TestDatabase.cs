using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>A database of one test on the shared server, dropped on dispose; hands out data sources and runs the queries
/// tests check rows with.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;
    private readonly List<MySqlDataSource> _dataSources = [];

    internal TestDatabase(string name, string connectionString, string serverConnectionString)
    {
        Name = name;
        ConnectionString = connectionString;
        _serverConnectionString = serverConnectionString;
        DataSource = CreateDataSource();
    }

    /// <summary>Creates a database of its own on a private server (one a test may stop and start).</summary>
    /// <param name="server">The server.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The database.</returns>
    internal static async Task<TestDatabase> CreateAsync(PrivateMariaDb server, CancellationToken cancellationToken = default)
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..8];
        await using (var connection = new MySqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}`", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var withDatabase = new MySqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
        return new TestDatabase(name, withDatabase, server.ConnectionString);
    }

    /// <summary>Gets the database name (<c>t_xxxxxxxx</c>).</summary>
    public string Name { get; }

    /// <summary>Gets a connection string with this database as the default one.</summary>
    public string ConnectionString { get; }

    /// <summary>Gets a data source on <see cref="ConnectionString"/>.</summary>
    public MySqlDataSource DataSource { get; }

    /// <summary>Creates another data source (its own pool), optionally with a changed connection string.</summary>
    /// <param name="change">Changes to the connection string, such as a wrong password.</param>
    /// <returns>The data source, disposed with the database.</returns>
    public MySqlDataSource CreateDataSource(Action<MySqlConnectionStringBuilder>? change = null)
    {
        var builder = new MySqlConnectionStringBuilder(ConnectionString);
        change?.Invoke(builder);
        var dataSource = new MySqlDataSourceBuilder(builder.ConnectionString).Build();
        _dataSources.Add(dataSource);
        return dataSource;
    }

    /// <summary>Runs a statement.</summary>
    /// <param name="sql">The SQL.</param>
    /// <returns>The affected rows.</returns>
    public async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a query and returns its rows, each as an array of values (<see cref="DBNull"/> for NULL).</summary>
    /// <param name="sql">The SQL.</param>
    /// <returns>The rows.</returns>
    public async Task<List<object[]>> QueryAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(values);
        }

        return rows;
    }

    /// <summary>Runs a query that returns one number.</summary>
    /// <param name="sql">The SQL.</param>
    /// <returns>The number.</returns>
    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Drops the database and disposes the data sources.</summary>
    /// <returns>A task that completes when it is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources)
        {
            await dataSource.DisposeAsync();
        }

        try
        {
            await using var connection = new MySqlConnection(_serverConnectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{Name}`", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (MySqlException)
        {
            // A test that stopped the server leaves its database behind; the server is throwaway.
        }
    }
}
