using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>A logger that keeps every entry, so a test can check what a user would read in the log.</summary>
/// <typeparam name="T">The category.</typeparam>
public sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    /// <summary>Gets the entries so far, in order.</summary>
    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue(new LogEntry(logLevel, eventId.Id, formatter(state, exception), exception));
    }
}

/// <summary>One captured log entry.</summary>
/// <param name="Level">The level.</param>
/// <param name="EventId">The event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception, if any.</param>
public sealed record LogEntry(LogLevel Level, int EventId, string Message, Exception? Exception);
