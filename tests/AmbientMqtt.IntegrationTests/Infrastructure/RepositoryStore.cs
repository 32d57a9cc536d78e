using System.Globalization;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// One test's own, empty database of one kind (a MariaDB database, a SQLite file), with what the shared repository tests
/// need to make repositories on it and to read back what they wrote. Dispose it to throw it away.
/// </summary>
public abstract class RepositoryStore : IAsyncDisposable
{
    /// <summary>Gets the statement that creates an <c>Ambient</c> table with every column but without the unique key on
    /// (identifier, timestamp), as a table made by hand before the repository existed might be.</summary>
    public abstract string CreateTableWithoutUniqueKeySql { get; }

    /// <summary>Gets the statement that creates the <c>Ambient</c> table of the first AmbientMqtt: the tutorial's columns
    /// and a unique key on (identifier, timestamp), the local time.</summary>
    public abstract string FirstWaveTableSql { get; }

    /// <summary>Gets the event id of the warning that the unique key is missing.</summary>
    public abstract int MissingUniqueKeyEventId { get; }

    /// <summary>Gets what the database says when it refuses an identifier longer than 64 characters.</summary>
    public abstract string RefusedIdentifierReason { get; }

    /// <summary>Makes a repository on this database (without creating the tables).</summary>
    /// <param name="settings">The settings; the defaults when omitted.</param>
    /// <param name="logger">Where the repository logs.</param>
    /// <returns>The repository.</returns>
    public abstract IAmbientRepository Create(RepositorySettings? settings = null, ILogger? logger = null);

    /// <summary>Runs a query and returns its rows, each as an array of values (<see cref="DBNull"/> for NULL).</summary>
    /// <param name="sql">The SQL.</param>
    /// <returns>The rows.</returns>
    public abstract Task<List<object[]>> QueryAsync(string sql);

    /// <summary>Runs a statement.</summary>
    /// <param name="sql">The SQL.</param>
    /// <returns>A task that completes when it has run.</returns>
    public abstract Task ExecuteAsync(string sql);

    /// <summary>Counts the tables in the database.</summary>
    /// <returns>The number of tables.</returns>
    public abstract Task<long> TableCountAsync();

    /// <summary>Gets the rows of a table as the tutorial's subscriber would read them: timestamp as
    /// <c>yyyy-MM-dd HH:mm:ss.ffffff</c>, identifier, temperature, humidity, pressure, in insertion order.</summary>
    /// <param name="table">The table.</param>
    /// <returns>The rows.</returns>
    public Task<List<object[]>> RowsAsync(string table = "Ambient") => QueryAsync(RowsSql(table));

    /// <summary>Gets each row's <c>timestamp_utc</c> as <c>yyyy-MM-dd HH:mm:ss.ffffff</c> and its <c>seq</c> (as
    /// <see cref="long"/>, or <see cref="DBNull"/>), in insertion order.</summary>
    /// <param name="table">The table.</param>
    /// <returns>The rows.</returns>
    public async Task<List<object[]>> UtcRowsAsync(string table = "Ambient")
    {
        var rows = await QueryAsync(UtcRowsSql(table));
        foreach (var row in rows)
        {
            row[1] = row[1] is DBNull ? DBNull.Value : Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
        }

        return rows;
    }

    /// <summary>Gets the rows of a dead-letter table: received_at as <c>yyyy-MM-dd HH:mm:ss.ffffff</c>, topic, payload
    /// bytes, original payload length (as <see cref="long"/>), reason, in insertion order.</summary>
    /// <param name="table">The table.</param>
    /// <returns>The rows.</returns>
    public async Task<List<object[]>> DeadLettersAsync(string table = "Ambient_rejected")
    {
        var rows = await QueryAsync(DeadLettersSql(table));
        foreach (var row in rows)
        {
            row[3] = Convert.ToInt64(row[3], CultureInfo.InvariantCulture);
        }

        return rows;
    }

    /// <summary>Runs a query that returns one number.</summary>
    /// <param name="sql">The SQL.</param>
    /// <returns>The number.</returns>
    public async Task<long> ScalarAsync(string sql) =>
        Convert.ToInt64((await QueryAsync(sql)).Single()[0], CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();

    /// <summary>The query behind <see cref="RowsAsync"/>.</summary>
    /// <param name="table">The table.</param>
    /// <returns>The SQL.</returns>
    protected abstract string RowsSql(string table);

    /// <summary>The SQL of <see cref="UtcRowsAsync"/>.</summary>
    /// <param name="table">The table.</param>
    /// <returns>The SQL.</returns>
    protected abstract string UtcRowsSql(string table);

    /// <summary>The query behind <see cref="DeadLettersAsync"/>.</summary>
    /// <param name="table">The table.</param>
    /// <returns>The SQL.</returns>
    protected abstract string DeadLettersSql(string table);
}

/// <summary>The settings the shared repository tests vary; each store puts them into its repository's options.</summary>
public sealed record RepositorySettings
{
    /// <summary>Gets the table name.</summary>
    public string Table { get; init; } = "Ambient";

    /// <summary>Gets the time zone.</summary>
    public string TimeZone { get; init; } = "Asia/Tokyo";

    /// <summary>Gets the default identifier.</summary>
    public string Identifier { get; init; } = "tochigi_iot_899";

    /// <summary>Gets the dead-letter payload prefix length.</summary>
    public int MaxRejectedPayloadBytes { get; init; } = 16384;

    /// <summary>Gets a value indicating whether a first-wave table is upgraded.</summary>
    public bool UpgradeTable { get; init; }
}

/// <summary>Passes a logger's entries on under another category type, so one capturing logger serves every repository.</summary>
/// <typeparam name="T">The category.</typeparam>
internal sealed class LoggerOf<T>(ILogger inner) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => inner.Log(logLevel, eventId, state, exception, formatter);
}
