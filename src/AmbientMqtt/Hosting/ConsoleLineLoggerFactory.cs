using System.Globalization;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Hosting;

/// <summary>
/// Log lines on a writer (stderr), one per line, in the shape of the console logger's <c>SingleLine</c> format that
/// <c>UseAmbientConsole</c> sets up (<c>12:00:00 warn: Category[2010] message</c>), without the logging framework behind
/// it: <see cref="AmbientHost"/>'s programs load no logging provider, no options and no DI container.
/// </summary>
internal sealed class ConsoleLineLoggerFactory(TextWriter writer, LogLevel minimum, TimeProvider timeProvider) : ILoggerFactory
{
    /// <summary>Gets the least severe level written.</summary>
    public LogLevel Minimum { get; } = minimum;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("AmbientHost writes its own log lines; it takes no logging provider.");

    public void Dispose()
    {
    }

    private void Write(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{timeProvider.GetLocalNow():HH:mm:ss} {Name(level)}: {category}[{eventId.Id}] {message}{(exception is null ? string.Empty : " " + exception.ToString().ReplaceLineEndings(" "))}");

        // One WriteLine per line: the writer (Console.Error) is synchronised, so lines of two threads never interleave.
        writer.WriteLine(line);
    }

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class Logger(ConsoleLineLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= factory.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            if (IsEnabled(logLevel))
            {
                factory.Write(logLevel, category, eventId, formatter(state, exception), exception);
            }
        }
    }
}
