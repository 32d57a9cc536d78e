using System.Net;
using AmbientMqtt.Dashboard.Logging;
using AmbientMqtt.Ingest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// The dashboard on a web server of its own (Kestrel), for a program that is not an ASP.NET Core application (the
/// samples): <c>await using var dashboard = await DashboardServer.StartAsync(reader, options, pipeline);</c>.
/// </summary>
/// <remarks>It listens where <see cref="DashboardOptions.Urls"/> says; when that is not set, on
/// <see cref="DashboardOptions.DefaultUrls"/>, or on a free port of 127.0.0.1 when 8080 is taken. It reads no other
/// configuration (no <c>ASPNETCORE_URLS</c>, no appsettings), runs in the Production environment whatever
/// <c>DOTNET_ENVIRONMENT</c> says, and logs through the logger factory it is given.</remarks>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication _application;
    private bool _stopped;

    private DashboardServer(WebApplication application, AmbientLiveFeed feed, IReadOnlyList<string> urls)
    {
        _application = application;
        Feed = feed;
        Urls = urls;
    }

    /// <summary>Gets the addresses it listens on, with the ports actually taken (<c>http://127.0.0.1:8080</c>).</summary>
    public IReadOnlyList<string> Urls { get; }

    /// <summary>Gets the first of <see cref="Urls"/>, the one to open in a browser.</summary>
    public string Url => Urls[0];

    /// <summary>Gets the feed of the live clients; <see cref="AmbientLiveFeed.Publish"/> hands them a reading.</summary>
    public AmbientLiveFeed Feed { get; }

    /// <summary>Starts the dashboard.</summary>
    /// <param name="reader">Where the data comes from.</param>
    /// <param name="options">Where to listen, the password, …; checked here.</param>
    /// <param name="pipeline">The ingest pipeline of this process, whose committed rows go to the live clients; without
    /// one, <c>/api/live</c> looks for new rows every <see cref="DashboardOptions.PollInterval"/>.</param>
    /// <param name="loggerFactory">Where the web server logs (warnings and above of ASP.NET Core itself).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException">A setting is wrong; the message names its key (<c>Dashboard:Urls</c>,
    /// <c>Dashboard:Password</c>, …).</exception>
    /// <exception cref="IOException">A port given in <see cref="DashboardOptions.Urls"/> is taken; the message names it
    /// and says how to choose another.</exception>
    public static Task<DashboardServer> StartAsync(
        IAmbientReader reader,
        DashboardOptions options,
        IngestPipeline? pipeline = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
        => StartAsync(reader, options, pipeline, loggerFactory, DashboardOptions.DefaultUrls, cancellationToken);

    /// <summary><see cref="StartAsync(IAmbientReader, DashboardOptions, IngestPipeline?, ILoggerFactory?, CancellationToken)"/>
    /// with another default address, so that a test can see the fallback without taking port 8080.</summary>
    internal static async Task<DashboardServer> StartAsync(
        IAmbientReader reader,
        DashboardOptions options,
        IngestPipeline? pipeline,
        ILoggerFactory? loggerFactory,
        string defaultUrls,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(problems[0], nameof(options));
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger("AmbientMqtt.Dashboard");
        var addresses = options.Addresses(defaultUrls);
        var feed = new AmbientLiveFeed();
        if (pipeline is not null)
        {
            feed.Attach(pipeline);
        }

        try
        {
            var application = Build(reader, options, feed, loggerFactory, addresses);
            try
            {
                await application.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (ex.InnerException is AddressInUseException)
            {
                await application.DisposeAsync().ConfigureAwait(false);
                if (options.Urls is not null)
                {
                    var taken = addresses.FirstOrDefault(a => a.Port != 0);
                    throw new IOException(
                        $"Dashboard:Urls: {ex.Message.TrimEnd('.')}; choose another port with --Dashboard:Urls=http://{taken?.Host ?? "127.0.0.1"}:…, or port 0 for a free one",
                        ex);
                }

                // The default (127.0.0.1:8080) is a convenience, not a promise: a second AmbientStation, or anything else
                // on 8080, must not stop the program.
                Log.PortTaken(logger, addresses[0].Host, addresses[0].Port);
                addresses = [.. addresses.Select(a => a.WithPort(0))];
                application = Build(reader, options, feed, loggerFactory, addresses);
                await application.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var urls = application.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            if (logger.IsEnabled(LogLevel.Information))
            {
                var listening = string.Join(", ", urls);
                Log.Listening(logger, listening);
            }
            return new DashboardServer(application, feed, urls);
        }
        catch
        {
            feed.Dispose();
            throw;
        }
    }

    /// <summary>Stops the server: live responses end, requests in progress get a few seconds to finish.</summary>
    /// <param name="cancellationToken">Cuts the graceful part short.</param>
    /// <returns>A task that completes when it has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Feed.Dispose();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await _application.StopAsync(timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Stops the server and releases it.</summary>
    /// <returns>A task that completes when it is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _application.DisposeAsync().ConfigureAwait(false);
    }

    private static WebApplication Build(IAmbientReader reader, DashboardOptions options, AmbientLiveFeed feed, ILoggerFactory loggerFactory, IReadOnlyList<ListenAddress> addresses)
    {
        // The empty builder: no configuration sources, no URLs from the environment, no developer exception page.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(DashboardServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggerFactory));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var address in addresses)
            {
                if (address.Address is null)
                {
                    kestrel.ListenLocalhost(address.Port);
                }
                else if (address.IsAny)
                {
                    kestrel.ListenAnyIP(address.Port);
                }
                else
                {
                    kestrel.Listen(new IPEndPoint(address.Address, address.Port));
                }
            }
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(reader);
        builder.Services.AddSingleton(feed);
        builder.Services.AddAmbientDashboard(o =>
        {
            o.Enabled = options.Enabled;
            o.Urls = options.Urls;
            o.Password = options.Password;
            o.StaleAfter = options.StaleAfter;
            o.PollInterval = options.PollInterval;
        });
        var application = builder.Build();
        application.UseRouting();
        application.MapAmbientDashboard();
        return application;
    }

    /// <summary>Hands ASP.NET Core's log lines to the program's own logger factory.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
