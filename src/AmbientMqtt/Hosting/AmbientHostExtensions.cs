using AmbientMqtt;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The conventions of AmbientMqtt's programs, for a program of your own: settings from <c>appsettings.json</c> beside the
/// program, log lines on stderr (so stdout carries only the program's own output), and one line with an exit code for
/// whatever stops it: 0 stopped cleanly, 1 needs a person, 2 a bad setting.
/// </summary>
public static class AmbientHostExtensions
{
    /// <summary>
    /// Reads <c>appsettings.json</c> from the program's directory (before the current directory's, the environment
    /// variables and the command line, which override it), writes log lines to stderr, one per line, and leaves out the
    /// host's own start and stop lines.
    /// </summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The builder of <c>Host.CreateApplicationBuilder(args)</c> (or of a web application).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static TBuilder UseAmbientConsole<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        IConfigurationBuilder configuration = builder.Configuration;
        var beside = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (!string.Equals(Path.GetFullPath(beside), Path.GetFullPath(Path.Combine(builder.Environment.ContentRootPath, "appsettings.json")), StringComparison.Ordinal))
        {
            // First, so that every other source (the current directory's file, environment, command line) overrides it.
            var json = new Configuration.Json.JsonConfigurationSource { Path = beside, Optional = true, ReloadOnChange = false };
            json.ResolveFileProvider();
            configuration.Sources.Insert(0, json);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        // "Hosting failed to start" repeats, with a stack trace, what RunAmbientAsync says in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        return builder;
    }

    /// <summary>
    /// Runs the host until Ctrl+C or SIGTERM, and turns whatever stops it into one line on <paramref name="errors"/>
    /// (stderr by default) and an exit code: a bad setting (<see cref="OptionsValidationException"/>, a subscription the
    /// broker refuses) is <c>configuration error: Mqtt:Port: …</c> and 2; a sensor that cannot be opened, a broker or
    /// database that refuses the login, a taken port is <c>error: …</c> and 1; otherwise
    /// <see cref="Environment.ExitCode"/> (0, or what a service set when it stopped the host). Never an unhandled
    /// exception, which systemd would restart forever.
    /// </summary>
    /// <param name="host">The host.</param>
    /// <param name="errors">Where the line goes; stderr when omitted.</param>
    /// <returns>The exit code.</returns>
    public static Task<int> RunAmbientAsync(this IHost host, TextWriter? errors = null) => RunAmbientAsync(host, prepare: null, errors);

    /// <summary>
    /// Runs <paramref name="prepare"/> (where a program resolves its services and subscribes to their events: resolving
    /// checks their settings), then the host, as <see cref="RunAmbientAsync(IHost, TextWriter?)"/> does.
    /// </summary>
    /// <param name="host">The host.</param>
    /// <param name="prepare">Runs before the host starts, with its services; a bad setting it meets is reported as one line.</param>
    /// <param name="errors">Where the line goes; stderr when omitted.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAmbientAsync(this IHost host, Action<IServiceProvider>? prepare, TextWriter? errors = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        var exit = host.Services.GetService<AmbientMqtt.Hosting.ProgramExit>();
        if (exit is not null)
        {
            exit.Reported = true;
        }

        var writer = errors ?? Console.Error;
        int code;
        try
        {
            // Every setting first, all of them in one line, before prepare resolves (and so checks) one service's alone.
            host.Services.GetService<IStartupValidator>()?.Validate();
            prepare?.Invoke(host.Services);
            await host.StartAsync().ConfigureAwait(false);
            await host.WaitForShutdownAsync().ConfigureAwait(false);
            code = Environment.ExitCode;
        }
        catch (OperationCanceledException)
        {
            // Stopped while starting: by Ctrl+C, or by a service that failed (it recorded why).
            code = Environment.ExitCode;
        }
        catch (Exception ex)
        {
            var (failure, line) = Describe(ex);
            await writer.WriteLineAsync(line).ConfigureAwait(false);
            await writer.FlushAsync().ConfigureAwait(false);
            return failure;
        }

        if (exit?.Failure is { } recorded)
        {
            await writer.WriteLineAsync(recorded.Line).ConfigureAwait(false);
            await writer.FlushAsync().ConfigureAwait(false);
            return recorded.Code;
        }

        return code;
    }

    /// <summary>The exit code and line for what stopped a program.</summary>
    internal static (int Code, string Line) Describe(Exception exception) => exception switch
    {
        // Distinct: a rule two options types share (the publisher's and the subscriber's broker) is said once.
        OptionsValidationException invalid => (2, "configuration error: " + string.Join("; ", invalid.Failures.Distinct())),
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            (2, "configuration error: " + string.Join("; ", aggregate.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures).Distinct())),
        AggregateException { InnerExceptions.Count: 1 } single => Describe(single.InnerExceptions[0]),
        MqttSubscriptionRefusedException => (2, "configuration error: " + exception.Message),
        ArgumentException when exception.Message.Contains("Mqtt:", StringComparison.Ordinal) || exception.Message.Contains("Database:", StringComparison.Ordinal)
            || exception.Message.Contains("Publish:", StringComparison.Ordinal) || exception.Message.Contains("HomeAssistant:", StringComparison.Ordinal) =>
            (2, "configuration error: " + exception.Message),
        SensorException or MqttConnectionException or EmbeddedBrokerException or AmbientStorageException => (1, "error: " + exception.Message),
        _ => (1, $"error: unexpected failure ({exception.GetType().Name}): {exception.Message}; please report it with the log above{Environment.NewLine}{exception}"),
    };
}
