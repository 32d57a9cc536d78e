using System.Runtime.InteropServices;
using AmbientMqtt.HomeAssistant;
using AmbientMqtt.Logging;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Sensors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AmbientMqtt.Hosting;

/// <summary>
/// A small host for a publisher on a small machine (a Pi Zero 2 W): the conventions of the generic host that
/// <c>UseAmbientConsole</c> and <c>RunAmbientAsync</c> give, without the generic host, its DI container, options
/// framework and logging providers: Bme280Publisher idles in 48 MB instead of 53.5 as <c>dotnet X.dll</c>, and runs as
/// Native AOT in 11 MB (benchmarks/README.md: footprint).
/// </summary>
/// <remarks>
/// <para>Settings: <c>appsettings.json</c> beside the program (then <c>appsettings.{DOTNET_ENVIRONMENT}.json</c>), the
/// environment variables (<c>Mqtt__Host=…</c>), then the command line (<c>--Mqtt:Host=…</c>), each overriding the one
/// before; the keys and their checks are those of <c>AddAmbientSensor</c>, <c>AddAmbientMqttPublisher</c> and
/// <c>AddAmbientPublishing</c>, bound without reflection (Native AOT safe). Log lines go to stderr, one per line, at
/// <c>Logging:LogLevel:Default</c> (<c>Information</c>) and above.</para>
/// <para><see cref="RunAsync"/> checks every setting first (a bad one: <c>configuration error: Mqtt:Port: …</c>, exit
/// code 2), creates the parts, starts the publisher and the publishing loop, runs until Ctrl+C or SIGTERM, then stops the
/// loop, waits up to 10 seconds for queued messages to reach the broker and disconnects (exit code 0). A sensor that
/// cannot be opened or a broker that refuses the login is <c>error: …</c> and exit code 1. Never an unhandled exception.</para>
/// </remarks>
public sealed class AmbientHost : IAsyncDisposable
{
    private const string MqttSection = "Mqtt";
    private const string SensorSection = "Sensor";
    private const string PublishSection = "Publish";
    private const string HomeAssistantSection = "HomeAssistant";

    private readonly CancellationTokenSource _stopping = new();
    private readonly ConsoleLineLoggerFactory _loggerFactory;
    private readonly Lock _gate = new();
    private bool _useSensor;
    private bool _useMqttPublisher;
    private bool _usePublishing;
    private bool _ran;
    private bool _closed;
    private (int Code, string Line)? _failure;
    private SensorOptions? _sensorOptions;
    private Bme280Options? _bme280Options;
    private MqttPublisherOptions? _mqttOptions;
    private HomeAssistantOptions? _homeAssistantOptions;
    private PublishOptions? _publishOptions;
    private ISensorSource? _sensor;
    private MqttReadingPublisher? _mqttPublisher;
    private PublishingPipeline? _publishing;

    private AmbientHost(IConfiguration configuration)
    {
        Configuration = configuration;
        var level = configuration["Logging:LogLevel:Default"];
        _loggerFactory = new ConsoleLineLoggerFactory(
            Console.Error,
            Enum.TryParse<LogLevel>(level, ignoreCase: true, out var minimum) ? minimum : LogLevel.Information,
            TimeProvider.System);
    }

    /// <summary>Gets the program's configuration.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>Gets where log lines go (stderr): for a program's own lines, in the same shape as the library's.</summary>
    public ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>Gets the sensor that <c>Sensor:Kind</c> names, opened; from the <c>prepare</c> callback of
    /// <see cref="RunAsync"/> on.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="RunAsync"/> has created it, or without <see cref="UseSensor"/>.</exception>
    public ISensorSource Sensor => _sensor ?? throw NotCreated(nameof(UseSensor));

    /// <summary>Gets the MQTT publisher; from the <c>prepare</c> callback of <see cref="RunAsync"/> on.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="RunAsync"/> has created it, or without <see cref="UseMqttPublisher"/>.</exception>
    public MqttReadingPublisher MqttPublisher => _mqttPublisher ?? throw NotCreated(nameof(UseMqttPublisher));

    /// <summary>Gets the publishing loop (sensor → publisher every <c>Publish:Interval</c>); from the <c>prepare</c>
    /// callback of <see cref="RunAsync"/> on.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="RunAsync"/> has created it, or without <see cref="UsePublishing"/>.</exception>
    public PublishingPipeline Publishing => _publishing ?? throw NotCreated(nameof(UsePublishing));

    /// <summary>
    /// Creates a host with the program's settings: <c>appsettings.json</c> beside the program (whatever the current
    /// directory), <c>appsettings.{DOTNET_ENVIRONMENT}.json</c>, the environment variables, then
    /// <paramref name="args"/>.
    /// </summary>
    /// <param name="args">The command line (<c>--Mqtt:Host=…</c>).</param>
    /// <param name="defaults">The program's own defaults, which every other source overrides.</param>
    /// <returns>The host.</returns>
    public static AmbientHost Create(string[] args, IEnumerable<KeyValuePair<string, string?>>? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";
        var builder = new ConfigurationBuilder();
        if (defaults is not null)
        {
            builder.AddInMemoryCollection(defaults);
        }

        builder.SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true, reloadOnChange: false)
            .AddJsonFile($"appsettings.{environment}.json", optional: true, reloadOnChange: false)
            .AddEnvironmentVariables()
            .AddCommandLine(args);
        return new AmbientHost(builder.Build());
    }

    /// <summary>Uses the sensor that <c>Sensor:Kind</c> names, as <c>AddAmbientSensor</c> registers it.</summary>
    /// <returns>This host.</returns>
    public AmbientHost UseSensor()
    {
        _useSensor = true;
        return this;
    }

    /// <summary>Uses an <see cref="MqttReadingPublisher"/> on the <c>Mqtt</c> settings (and <c>Publish:Identifier</c>,
    /// <c>Publish:SpoolPath</c>, <c>Publish:SpoolMaxReadings</c>, the <c>HomeAssistant</c> section), as
    /// <c>AddAmbientMqttPublisher</c> registers it.</summary>
    /// <returns>This host.</returns>
    public AmbientHost UseMqttPublisher()
    {
        _useMqttPublisher = true;
        return this;
    }

    /// <summary>Runs the publishing loop on the <c>Publish</c> settings, as <c>AddAmbientPublishing</c> adds it; uses the
    /// sensor and the MQTT publisher too.</summary>
    /// <returns>This host.</returns>
    public AmbientHost UsePublishing()
    {
        _usePublishing = _useSensor = _useMqttPublisher = true;
        return this;
    }

    /// <summary>Asks <see cref="RunAsync"/> to stop, as Ctrl+C does.</summary>
    public void Stop()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Stopped already.
        }
    }

    /// <summary>
    /// Checks every setting, creates the parts, runs <paramref name="prepare"/>, starts, runs until Ctrl+C, SIGTERM,
    /// <see cref="Stop"/> or the end of <paramref name="run"/>, stops, and returns the exit code: 0 stopped cleanly, 1
    /// needs a person, 2 a bad setting (said in one line on <paramref name="errors"/>). Call it once.
    /// </summary>
    /// <param name="prepare">Runs once the parts exist, before anything connects: where a program subscribes to their
    /// events and prints what it is about to do.</param>
    /// <param name="run">The program's own work, started after the publisher; when it ends the program stops. Its token
    /// fires when the program is asked to stop.</param>
    /// <param name="errors">Where the line goes; stderr when omitted.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="InvalidOperationException">Called a second time.</exception>
    public async Task<int> RunAsync(Action<AmbientHost>? prepare = null, Func<CancellationToken, Task>? run = null, TextWriter? errors = null)
    {
        lock (_gate)
        {
            if (_ran)
            {
                throw new InvalidOperationException("An AmbientHost runs once.");
            }

            _ran = true;
        }

        var writer = errors ?? Console.Error;
        var token = _stopping.Token;
        using var terminate = Register(PosixSignal.SIGTERM);
        using var interrupt = Register(PosixSignal.SIGINT);
        using var quit = Register(PosixSignal.SIGQUIT);

        var failures = BindAll();
        if (failures.Count > 0)
        {
            await SayAsync(writer, "configuration error: " + string.Join("; ", failures.Distinct())).ConfigureAwait(false);
            return 2;
        }

        Task? loop = null;
        Task? work = null;
        try
        {
            Create();
            prepare?.Invoke(this);
            if (_mqttPublisher is not null)
            {
                await _mqttPublisher.StartAsync(token).ConfigureAwait(false);
            }

            if (_publishing is not null)
            {
                loop = RunPublishingAsync(_publishing, token);
            }

            if (run is not null)
            {
                work = RunWorkAsync(run, token);
            }

            await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ctrl+C, SIGTERM, Stop(), or a part that failed and recorded why.
        }
#pragma warning disable CA1031 // Whatever stops the program becomes one line and an exit code, never an unhandled exception (systemd would restart it forever).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var (code, line) = Describe(ex);
            Fail(code, line);
        }
        finally
        {
            await StopAsync(loop, work).ConfigureAwait(false);
        }

        if (_failure is { } failure)
        {
            await SayAsync(writer, failure.Line).ConfigureAwait(false);
            return failure.Code;
        }

        return Environment.ExitCode;
    }

    /// <summary>Disconnects the publisher and closes the sensor, if <see cref="RunAsync"/> has not already.</summary>
    /// <returns>A task that completes when they are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _loggerFactory.Dispose();
    }

    /// <summary>What <c>RunAmbientAsync</c> says for the same failure; an unknown one with its stack trace.</summary>
    private static (int Code, string Line) Describe(Exception exception) => AmbientHostExtensions.Describe(exception);

    private static async Task SayAsync(TextWriter writer, string line)
    {
        await writer.WriteLineAsync(line).ConfigureAwait(false);
        await writer.FlushAsync().ConfigureAwait(false);
    }

    private static InvalidOperationException NotCreated(string use) =>
        new($"Not created: call {use}() before RunAsync, and use it from RunAsync's prepare callback on.");

    private PosixSignalRegistration Register(PosixSignal signal) => PosixSignalRegistration.Create(signal, context =>
    {
        // Stop cleanly instead of being killed: what is queued still goes out.
        context.Cancel = true;
        Stop();
    });

    private void Fail(int code, string line)
    {
        lock (_gate)
        {
            _failure ??= (code, line);
        }

        Stop();
    }

    /// <summary>Binds and checks every setting of every part in use, all problems together (one line).</summary>
    private List<string> BindAll()
    {
        var failures = new List<string>();
        if (_useSensor)
        {
            _bme280Options = Bind<Bme280Options>(failures, SensorSection, static (c, o) => c.Bind(o), SensorOptionsValidator.Instance);
            _sensorOptions = Bind<SensorOptions>(failures, SensorSection, AmbientMqttServiceCollectionExtensions.BindSensor, SensorOptionsValidator.Instance);
        }

        if (_useMqttPublisher)
        {
            _mqttOptions = Bind<MqttPublisherOptions>(failures, MqttSection, static (c, o) => c.Bind(o), MqttOptionsValidator.Instance, o => AmbientMqttServiceCollectionExtensions.ConfigurePublisher(Configuration, o));
            _homeAssistantOptions = Bind<HomeAssistantOptions>(failures, HomeAssistantSection, static (c, o) => c.Bind(o), HomeAssistantOptionsValidator.Instance);
        }

        if (_usePublishing)
        {
            _publishOptions = Bind<PublishOptions>(failures, PublishSection, static (c, o) => c.Bind(o), PublishOptionsValidator.Instance);
        }

        return failures;
    }

    private TOptions Bind<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(
        List<string> failures, string section, Action<IConfiguration, TOptions> bind, IValidateOptions<TOptions> validator, Action<TOptions>? configure = null)
        where TOptions : class, new()
    {
        var options = new TOptions();
        try
        {
            ConfigurationBinding.Bind(Configuration.GetSection(section), options, bind);
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
            return options;
        }

        configure?.Invoke(options);
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            failures.AddRange(result.Failures ?? [result.FailureMessage]);
        }

        return options;
    }

    /// <summary>In the order the generic host resolves them: the publisher, then the sensor (opened here) and the loop.</summary>
    private void Create()
    {
        if (_mqttOptions is not null)
        {
            _mqttPublisher = new MqttReadingPublisher(_mqttOptions, _loggerFactory.CreateLogger<MqttReadingPublisher>(), TimeProvider.System);
            if (_homeAssistantOptions is { Enabled: true } homeAssistant)
            {
                // expire_after follows Publish:Interval, as AddAmbientMqttPublisher does.
                HomeAssistantDiscovery.Attach(_mqttPublisher, homeAssistant, (_publishOptions ?? new PublishOptions()).Interval, _loggerFactory.CreateLogger<HomeAssistantDiscovery>());
            }
        }

        if (_sensorOptions is not null && _bme280Options is not null)
        {
            _sensor = SensorFactory.Create(_sensorOptions, _bme280Options, TimeProvider.System);
        }

        if (_publishOptions is not null && _sensor is not null && _mqttPublisher is not null)
        {
            _publishing = new PublishingPipeline(_sensor, _mqttPublisher, _publishOptions, _loggerFactory.CreateLogger<PublishingPipeline>(), TimeProvider.System);
        }
    }

    private async Task RunPublishingAsync(PublishingPipeline pipeline, CancellationToken stoppingToken)
    {
        // Off the caller's thread, as a BackgroundService runs, so that start-up goes on.
        await Task.Yield();
        await PublishingService.RunAsync(pipeline, _loggerFactory.CreateLogger<AmbientHost>(), line => Fail(1, line), stoppingToken).ConfigureAwait(false);
    }

    private async Task RunWorkAsync(Func<CancellationToken, Task> run, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await run(stoppingToken).ConfigureAwait(false);
            Stop();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Whatever stops the program's own work becomes one line and an exit code, never an unhandled exception.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var (code, line) = Describe(ex);
            Fail(code, line);
        }
    }

    /// <summary>In the reverse order of the start: the loop and the program's work, then what is queued goes out, then
    /// the publisher disconnects (saying <c>offline</c> where it has an availability topic) and the sensor closes.</summary>
    private async Task StopAsync(Task? loop, Task? work)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        if (work is not null)
        {
            await work.ConfigureAwait(false);
        }

        if (_mqttPublisher is { } publisher)
        {
            await MqttPublisherService.FlushAsync(publisher, _loggerFactory.CreateLogger<MqttPublisherService>(), CancellationToken.None).ConfigureAwait(false);
        }

        await CloseAsync().ConfigureAwait(false);
    }

    /// <summary>Disconnects the publisher and closes the sensor, once.</summary>
    private async ValueTask CloseAsync()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
        }

        if (_mqttPublisher is not null)
        {
            await _mqttPublisher.DisposeAsync().ConfigureAwait(false);
        }

        (_sensor as IDisposable)?.Dispose();
    }
}
