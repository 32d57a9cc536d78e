using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace AmbientMqtt.Samples;

/// <summary>
/// What the samples share: configuration from appsettings.json beside the program, then environment variables
/// (<c>Mqtt__Host</c>), then the command line (<c>--Mqtt:Host=…</c>); log lines on stderr so stdout carries only the
/// tutorial's output; and one clear line, naming the key, for a bad setting.
/// </summary>
internal static class SampleHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args, IReadOnlyDictionary<string, string?> defaults)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Defaults first, so that every real source overrides them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = defaults });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        // "Hosting failed to start" repeats, with a stack trace, what TryReport already says in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder;
    }

    /// <summary>Binds a section; a value of the wrong type stops the program with a line naming the key.</summary>
    public static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options, o => o.ErrorOnUnknownConfiguration = false);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException(Describe(ex));
        }

        return options;
    }

    public static string Describe(Exception ex)
    {
        // "Failed to convert configuration value '…' at 'Mqtt:Port' to type 'System.Int32'." plus the inner reason.
        var message = ex.Message;
        if (ex.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal))
        {
            message += " " + inner.Message;
        }

        return message;
    }

    /// <summary>
    /// Prints one line for what stops a program at start-up (a bad setting, a sensor that cannot be opened, a broker or
    /// database that refuses us) and gives its exit code; <see langword="false"/> for anything else, a bug, which keeps
    /// its stack trace.
    /// </summary>
    public static bool TryReport(Exception exception, out int exitCode)
    {
        switch (exception)
        {
            case OptionsValidationException invalid:
                exitCode = ReportConfigurationError(invalid.Message);
                return true;
            case AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException):
                exitCode = ReportConfigurationError(string.Join("; ", aggregate.InnerExceptions.Select(e => e.Message)));
                return true;
            case SensorException or MqttConnectionException or AmbientStorageException { IsTransient: false }:
                Console.Error.WriteLine($"error: {exception.Message}");
                exitCode = 1;
                return true;
            case OperationCanceledException:
                // Ctrl+C or SIGTERM while starting.
                exitCode = 0;
                return true;
            default:
                exitCode = 0;
                return false;
        }
    }

    /// <summary>Prints one line for a configuration problem and returns the exit code for it.</summary>
    public static int ReportConfigurationError(string message)
    {
        Console.Error.WriteLine($"configuration error: {message}");
        return 2;
    }
}

/// <summary>A setting is missing or wrong; the message names the key.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
