using AmbientMqtt;
using AmbientMqtt.Dashboard;
using AmbientMqtt.Ingest;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers what <c>MapAmbientDashboard()</c> serves.</summary>
public static class AmbientDashboardServiceCollectionExtensions
{
    /// <summary>
    /// Registers the dashboard bound to the <c>Dashboard</c> section (<c>Dashboard:Password</c>,
    /// <c>Dashboard:StaleAfter</c>, <c>Dashboard:PollInterval</c>; checked when the host starts), an
    /// <see cref="AmbientLiveFeed"/> (fed by the <see cref="IngestPipeline"/> when one is registered), and an
    /// <see cref="IAmbientReader"/> unless one is registered already: a <see cref="MariaDbAmbientReader"/> on the
    /// registered <c>MySqlDataSource</c> and <c>Database</c> settings (<c>AddAmbientMariaDb</c>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddAmbientDashboard(services, options => BindChecked(configuration, options));
    }

    /// <summary>Registers the dashboard with settings given in code (see the other overload).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientDashboard(this IServiceCollection services, Action<DashboardOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<DashboardOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DashboardOptions>, DashboardOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AmbientLiveFeed>();
        services.TryAddSingleton<IAmbientReader>(CreateReader);
        services.TryAddSingleton(sp => new DashboardApi(
            sp.GetRequiredService<IAmbientReader>(),
            sp.GetRequiredService<AmbientLiveFeed>(),
            sp.GetRequiredService<IOptions<DashboardOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("AmbientMqtt.Dashboard"),
            sp.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None));
        services.AddHostedService<LiveFeedAttachment>();
        return services;
    }

    /// <summary>
    /// Registers the dashboard on a web server of its own (<see cref="AmbientDashboardService"/>, started with the host)
    /// for a program that is not an ASP.NET Core application: everything <c>AddAmbientDashboard</c> registers, bound to
    /// the <c>Dashboard</c> section (<c>Dashboard:Urls</c>, <c>Dashboard:Password</c>, <c>Dashboard:Enabled</c>, …).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddAmbientDashboardServer(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DashboardOptions>().Configure(options => BindChecked(configuration, options)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DashboardOptions>, DashboardOptionsValidator>());
        services.TryAddSingleton<IAmbientReader>(CreateReader);
        services.TryAddSingleton<AmbientDashboardService>();
        services.AddHostedService(sp => sp.GetRequiredService<AmbientDashboardService>());
        return services;
    }

    /// <summary>Binds the <c>Dashboard</c> section with the checks every other section gets: a value that does not
    /// convert (<c>Dashboard:Enabled=sometimes</c>) or a bare number for a duration is a bad setting naming its key
    /// (exit code 2 in the samples), not an unexpected failure.</summary>
    private static void BindChecked(IConfiguration configuration, DashboardOptions options) =>
        AmbientMqtt.Hosting.ConfigurationBinding.Bind(configuration.GetSection("Dashboard"), options, static (c, o) => c.Bind(o));

    /// <summary>The reader of the repository the host registered: on its own connection string when
    /// <c>Dashboard:ConnectionString</c> names one (a user that may only SELECT).</summary>
    private static IAmbientReader CreateReader(IServiceProvider services)
    {
        var dashboard = services.GetRequiredService<IOptions<DashboardOptions>>().Value;
        if (services.GetService<SqliteAmbientRepository>() is not null)
        {
            return new SqliteAmbientReader(services.GetRequiredService<IOptions<SqliteRepositoryOptions>>().Value, services.GetService<ILogger<SqliteAmbientReader>>());
        }

        var dataSource = dashboard.ConnectionString is { Length: > 0 } connectionString
            ? new MySqlDataSourceBuilder(connectionString).Build()
            : services.GetService<MySqlDataSource>()
                ?? throw new InvalidOperationException("The dashboard needs an IAmbientReader: register a MariaDbAmbientReader or SqliteAmbientReader, or call AddAmbientMariaDb or AddAmbientSqlite first.");
        return new MariaDbAmbientReader(dataSource, services.GetRequiredService<IOptions<MariaDbRepositoryOptions>>().Value, services.GetService<ILogger<MariaDbAmbientReader>>());
    }
}
