using AmbientMqtt.Dashboard.Logging;
using AmbientMqtt.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// Runs a <see cref="DashboardServer"/> with a .NET host (<c>services.AddAmbientDashboardServer(configuration)</c>):
/// started with the host, on <c>Dashboard:Urls</c>, fed by the host's <see cref="IngestPipeline"/> when it has one,
/// stopped with it. <see cref="Started"/> says where it listens.
/// </summary>
public sealed class AmbientDashboardService : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly DashboardOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private DashboardServer? _server;

    /// <summary>Initializes the service; nothing listens until the host starts it.</summary>
    /// <param name="services">Where the reader and the pipeline come from.</param>
    /// <param name="options">The <c>Dashboard</c> settings.</param>
    /// <param name="loggers">Where the web server logs.</param>
    /// <param name="lifetime">Stopped when a given port is taken.</param>
    public AmbientDashboardService(IServiceProvider services, IOptions<DashboardOptions> options, ILoggerFactory loggers, IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(options);
        _services = services;
        _options = options.Value;
        _loggers = loggers;
        _lifetime = lifetime;
        _logger = loggers.CreateLogger("AmbientMqtt.Dashboard");
    }

    /// <summary>Raised once the dashboard listens, with its address (<c>http://127.0.0.1:8080</c>).</summary>
    public event EventHandler<string>? Started;

    /// <summary>Gets the address to open in a browser, once started; <see langword="null"/> before, or when
    /// <c>Dashboard:Enabled</c> is false.</summary>
    public string? Url => _server?.Url;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var reader = _services.GetRequiredService<IAmbientReader>();
        try
        {
            _server = await DashboardServer.StartAsync(reader, _options, _services.GetService<IngestPipeline>(), _loggers, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // A port given in Dashboard:Urls is taken: one line, exit code 1, like any other port this program is told to use.
            Log.CannotListen(_logger, ex.Message);
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
            return;
        }

        Started?.Invoke(this, _server.Url);
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
